impl :: bincode :: Decode < DecodeCtx > for StoredSetChange
{
    fn decode < __D : :: bincode :: de :: Decoder < Context = DecodeCtx > >
    (decoder : & mut __D) ->core :: result :: Result < Self, :: bincode ::
    error :: DecodeError >
    {
        core :: result :: Result ::
        Ok(Self
        {
            schedule : :: bincode :: Decode :: decode(decoder) ?, proof : ::
            bincode :: Decode :: decode(decoder) ?,
        })
    }
} impl < '__de > :: bincode :: BorrowDecode < '__de, DecodeCtx > for
StoredSetChange
{
    fn borrow_decode < __D : :: bincode :: de :: BorrowDecoder < '__de,
    Context = DecodeCtx > > (decoder : & mut __D) ->core :: result :: Result <
    Self, :: bincode :: error :: DecodeError >
    {
        core :: result :: Result ::
        Ok(Self
        {
            schedule : :: bincode :: BorrowDecode ::< '_, DecodeCtx >::
            borrow_decode(decoder) ?, proof : :: bincode :: BorrowDecode ::<
            '_, DecodeCtx >:: borrow_decode(decoder) ?,
        })
    }
}