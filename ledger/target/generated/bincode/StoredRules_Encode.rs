impl :: bincode :: Encode for StoredRules
{
    fn encode < __E : :: bincode :: enc :: Encoder >
    (& self, encoder : & mut __E) ->core :: result :: Result < (), :: bincode
    :: error :: EncodeError >
    {
        :: bincode :: Encode :: encode(&self.agencies, encoder) ?; :: bincode
        :: Encode :: encode(&self.permissions, encoder) ?; :: bincode ::
        Encode :: encode(&self.keys, encoder) ?; :: bincode :: Encode ::
        encode(&self.validators, encoder) ?; :: bincode :: Encode ::
        encode(&self.validators_from, encoder) ?; core :: result :: Result ::
        Ok(())
    }
}