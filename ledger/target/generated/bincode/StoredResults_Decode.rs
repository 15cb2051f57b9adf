impl :: bincode :: Decode < DecodeCtx > for StoredResults
{
    fn decode < __D : :: bincode :: de :: Decoder < Context = DecodeCtx > >
    (decoder : & mut __D) ->core :: result :: Result < Self, :: bincode ::
    error :: DecodeError >
    {
        core :: result :: Result ::
        Ok(Self { 0 : :: bincode :: Decode :: decode(decoder) ?, })
    }
} impl < '__de > :: bincode :: BorrowDecode < '__de, DecodeCtx > for
StoredResults
{
    fn borrow_decode < __D : :: bincode :: de :: BorrowDecoder < '__de,
    Context = DecodeCtx > > (decoder : & mut __D) ->core :: result :: Result <
    Self, :: bincode :: error :: DecodeError >
    {
        core :: result :: Result ::
        Ok(Self
        {
            0 : :: bincode :: BorrowDecode ::< '_, DecodeCtx >::
            borrow_decode(decoder) ?,
        })
    }
}