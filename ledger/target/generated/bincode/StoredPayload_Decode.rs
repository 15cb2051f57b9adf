impl :: bincode :: Decode < DecodeCtx > for StoredPayload
{
    fn decode < __D : :: bincode :: de :: Decoder < Context = DecodeCtx > >
    (decoder : & mut __D) ->core :: result :: Result < Self, :: bincode ::
    error :: DecodeError >
    {
        let variant_index = < u32 as :: bincode :: Decode ::< __D :: Context
        >>:: decode(decoder) ?; match variant_index
        {
            0u32 =>core :: result :: Result ::
            Ok(Self ::Held
            {
                owner : :: bincode :: Decode ::< __D :: Context >::
                decode(decoder) ?, salt : :: bincode :: Decode ::< __D ::
                Context >:: decode(decoder) ?, payload : :: bincode :: Decode
                ::< __D :: Context >:: decode(decoder) ?,
            }), 1u32 =>core :: result :: Result ::
            Ok(Self ::Erased
            {
                owner : :: bincode :: Decode ::< __D :: Context >::
                decode(decoder) ?, by : :: bincode :: Decode ::< __D ::
                Context >:: decode(decoder) ?, height : :: bincode :: Decode
                ::< __D :: Context >:: decode(decoder) ?,
            }), variant =>core :: result :: Result ::
            Err(:: bincode :: error :: DecodeError :: UnexpectedVariant
            {
                found : variant, type_name : "StoredPayload", allowed : &::
                bincode :: error :: AllowedEnumVariants :: Range
                { min: 0, max: 1 }
            })
        }
    }
} impl < '__de > :: bincode :: BorrowDecode < '__de, DecodeCtx > for
StoredPayload
{
    fn borrow_decode < __D : :: bincode :: de :: BorrowDecoder < '__de,
    Context = DecodeCtx > > (decoder : & mut __D) ->core :: result :: Result <
    Self, :: bincode :: error :: DecodeError >
    {
        let variant_index = < u32 as :: bincode :: Decode ::< __D :: Context
        >>:: decode(decoder) ?; match variant_index
        {
            0u32 =>core :: result :: Result ::
            Ok(Self ::Held
            {
                owner : :: bincode :: BorrowDecode ::< __D :: Context >::
                borrow_decode(decoder) ?, salt : :: bincode :: BorrowDecode
                ::< __D :: Context >:: borrow_decode(decoder) ?, payload : ::
                bincode :: BorrowDecode ::< __D :: Context >::
                borrow_decode(decoder) ?,
            }), 1u32 =>core :: result :: Result ::
            Ok(Self ::Erased
            {
                owner : :: bincode :: BorrowDecode ::< __D :: Context >::
                borrow_decode(decoder) ?, by : :: bincode :: BorrowDecode ::<
                __D :: Context >:: borrow_decode(decoder) ?, height : ::
                bincode :: BorrowDecode ::< __D :: Context >::
                borrow_decode(decoder) ?,
            }), variant =>core :: result :: Result ::
            Err(:: bincode :: error :: DecodeError :: UnexpectedVariant
            {
                found : variant, type_name : "StoredPayload", allowed : &::
                bincode :: error :: AllowedEnumVariants :: Range
                { min: 0, max: 1 }
            })
        }
    }
}