impl :: bincode :: Encode for StoredPayload
{
    fn encode < __E : :: bincode :: enc :: Encoder >
    (& self, encoder : & mut __E) ->core :: result :: Result < (), :: bincode
    :: error :: EncodeError >
    {
        match self
        {
            Self ::Held { owner, salt, payload }
            =>{
                < u32 as :: bincode :: Encode >:: encode(& (0u32), encoder) ?
                ; :: bincode :: Encode :: encode(owner, encoder) ?; :: bincode
                :: Encode :: encode(salt, encoder) ?; :: bincode :: Encode ::
                encode(payload, encoder) ?; core :: result :: Result :: Ok(())
            }, Self ::Erased { owner, by, height }
            =>{
                < u32 as :: bincode :: Encode >:: encode(& (1u32), encoder) ?
                ; :: bincode :: Encode :: encode(owner, encoder) ?; :: bincode
                :: Encode :: encode(by, encoder) ?; :: bincode :: Encode ::
                encode(height, encoder) ?; core :: result :: Result :: Ok(())
            },
        }
    }
}