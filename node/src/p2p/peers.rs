//! Validator identities on the network: libp2p peer ids derived from the
//! network keys in the validator set, and their addresses.

use libp2p::Multiaddr;
use libp2p::identity::{self, PeerId};

use chancery_types::{PublicKey, SecretKey, ValidatorSet};

/// Why the validator set cannot be turned into a peer list.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// A network key libp2p does not accept.
    #[error("validator {index}: network key is not a valid ed25519 key: {reason}")]
    BadKey {
        /// Validator index.
        index: usize,
        /// Why.
        reason: String,
    },
    /// An address that is not a multiaddr.
    #[error("validator {index}: address {address:?} is not a multiaddr: {reason}")]
    BadAddress {
        /// Validator index.
        index: usize,
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
}

/// The peer id of a Chancery network key.
pub fn peer_id(key: &PublicKey) -> Result<PeerId, String> {
    let pk =
        identity::ed25519::PublicKey::try_from_bytes(key.as_bytes()).map_err(|e| e.to_string())?;
    Ok(PeerId::from_public_key(&identity::PublicKey::from(pk)))
}

/// The libp2p keypair of a Chancery network secret key.
pub fn keypair(secret: &SecretKey) -> Result<identity::Keypair, String> {
    let mut seed = secret.seed();
    identity::Keypair::ed25519_from_bytes(&mut seed).map_err(|e| e.to_string())
}

/// One validator as a network peer.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Its peer id.
    pub id: PeerId,
    /// Where to dial it.
    pub address: Multiaddr,
}

/// Every validator as a peer, by validator index.
#[derive(Debug, Clone)]
pub struct PeerSet {
    peers: Vec<Peer>,
}

impl PeerSet {
    /// Derives peer ids and addresses from a validator set.
    pub fn from_validators(set: &ValidatorSet) -> Result<Self, PeerError> {
        Self::from_list(set.validators())
    }

    fn from_list(list: &[chancery_types::Validator]) -> Result<Self, PeerError> {
        let mut peers = Vec::with_capacity(list.len());
        for (index, v) in list.iter().enumerate() {
            let id =
                peer_id(&v.network_key).map_err(|reason| PeerError::BadKey { index, reason })?;
            let address: Multiaddr =
                v.address
                    .parse()
                    .map_err(|e: libp2p::multiaddr::Error| PeerError::BadAddress {
                        index,
                        address: v.address.to_string(),
                        reason: e.to_string(),
                    })?;
            peers.push(Peer { id, address });
        }
        Ok(PeerSet { peers })
    }

    /// The peers of `current` in validator order, then those of
    /// `scheduled` that are not in `current` (validators about to join,
    /// which must be able to connect and sync before their first height).
    pub fn for_sets(
        current: &ValidatorSet,
        scheduled: Option<&ValidatorSet>,
    ) -> Result<Self, PeerError> {
        let mut list: Vec<chancery_types::Validator> = current.validators().to_vec();
        if let Some(next) = scheduled {
            for v in next.validators() {
                if current.index_of(&v.consensus_key).is_none() {
                    list.push(v.clone());
                }
            }
        }
        Self::from_list(&list)
    }

    /// The peers in validator order.
    pub fn peers(&self) -> &[Peer] {
        &self.peers
    }

    /// The validator index of a peer id.
    pub fn index_of(&self, id: &PeerId) -> Option<usize> {
        self.peers.iter().position(|p| &p.id == id)
    }
}
