impl :: bincode :: Decode < DecodeCtx > for StoredRules
{
    fn decode < __D : :: bincode :: de :: Decoder < Context = DecodeCtx > >
    (decoder : & mut __D) ->core :: result :: Result < Self, :: bincode ::
    error :: DecodeError >
    {
        core :: result :: Result ::
        Ok(Self
        {
            agencies : :: bincode :: Decode :: decode(decoder) ?, permissions
            : :: bincode :: Decode :: decode(decoder) ?, keys : :: bincode ::
            Decode :: decode(decoder) ?, validators : :: bincode :: Decode ::
            decode(decoder) ?, validators_from : :: bincode :: Decode ::
            decode(decoder) ?,
        })
    }
} impl < '__de > :: bincode :: BorrowDecode < '__de, DecodeCtx > for
StoredRules
{
    fn borrow_decode < __D : :: bincode :: de :: BorrowDecoder < '__de,
    Context = DecodeCtx > > (decoder : & mut __D) ->core :: result :: Result <
    Self, :: bincode :: error :: DecodeError >
    {
        core :: result :: Result ::
        Ok(Self
        {
            agencies : :: bincode :: BorrowDecode ::< '_, DecodeCtx >::
            borrow_decode(decoder) ?, permissions : :: bincode :: BorrowDecode
            ::< '_, DecodeCtx >:: borrow_decode(decoder) ?, keys : :: bincode
            :: BorrowDecode ::< '_, DecodeCtx >:: borrow_decode(decoder) ?,
            validators : :: bincode :: BorrowDecode ::< '_, DecodeCtx >::
            borrow_decode(decoder) ?, validators_from : :: bincode ::
            BorrowDecode ::< '_, DecodeCtx >:: borrow_decode(decoder) ?,
        })
    }
}