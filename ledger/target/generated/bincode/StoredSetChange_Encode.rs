impl :: bincode :: Encode for StoredSetChange
{
    fn encode < __E : :: bincode :: enc :: Encoder >
    (& self, encoder : & mut __E) ->core :: result :: Result < (), :: bincode
    :: error :: EncodeError >
    {
        :: bincode :: Encode :: encode(&self.schedule, encoder) ?; :: bincode
        :: Encode :: encode(&self.proof, encoder) ?; core :: result :: Result
        :: Ok(())
    }
}