impl :: bincode :: Decode < DecodeCtx > for KeyEntry
{
    fn decode < __D : :: bincode :: de :: Decoder < Context = DecodeCtx > >
    (decoder : & mut __D) ->core :: result :: Result < Self, :: bincode ::
    error :: DecodeError >
    {
        core :: result :: Result ::
        Ok(Self
        {
            agency : :: bincode :: Decode :: decode(decoder) ?, key : ::
            bincode :: Decode :: decode(decoder) ?, revoked_at : :: bincode ::
            Decode :: decode(decoder) ?, compromised_since : :: bincode ::
            Decode :: decode(decoder) ?,
        })
    }
} impl < '__de > :: bincode :: BorrowDecode < '__de, DecodeCtx > for KeyEntry
{
    fn borrow_decode < __D : :: bincode :: de :: BorrowDecoder < '__de,
    Context = DecodeCtx > > (decoder : & mut __D) ->core :: result :: Result <
    Self, :: bincode :: error :: DecodeError >
    {
        core :: result :: Result ::
        Ok(Self
        {
            agency : :: bincode :: BorrowDecode ::< '_, DecodeCtx >::
            borrow_decode(decoder) ?, key : :: bincode :: BorrowDecode ::< '_,
            DecodeCtx >:: borrow_decode(decoder) ?, revoked_at : :: bincode ::
            BorrowDecode ::< '_, DecodeCtx >:: borrow_decode(decoder) ?,
            compromised_since : :: bincode :: BorrowDecode ::< '_, DecodeCtx
            >:: borrow_decode(decoder) ?,
        })
    }
}