impl :: bincode :: Encode for KeyEntry
{
    fn encode < __E : :: bincode :: enc :: Encoder >
    (& self, encoder : & mut __E) ->core :: result :: Result < (), :: bincode
    :: error :: EncodeError >
    {
        :: bincode :: Encode :: encode(&self.agency, encoder) ?; :: bincode ::
        Encode :: encode(&self.key, encoder) ?; :: bincode :: Encode ::
        encode(&self.revoked_at, encoder) ?; :: bincode :: Encode ::
        encode(&self.compromised_since, encoder) ?; core :: result :: Result
        :: Ok(())
    }
}