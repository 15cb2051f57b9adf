//! Serde helpers: fixed-size byte types are hex strings in human-readable
//! formats (JSON, TOML) and raw bytes in binary ones.

/// Implements `Serialize` / `Deserialize` for a tuple struct around `[u8; N]`.
macro_rules! hex_serde {
    ($ty:ident, $n:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(&hex::encode(self.0))
                } else {
                    s.serialize_bytes(&self.0)
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::Error;
                if d.is_human_readable() {
                    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                    let mut out = [0u8; $n];
                    hex::decode_to_slice(s.as_bytes(), &mut out).map_err(|e| {
                        D::Error::custom(format!(
                            "expected {} hex digits for {}: {e}",
                            2 * $n,
                            stringify!($ty)
                        ))
                    })?;
                    Ok($ty(out))
                } else {
                    let v = <Vec<u8>>::deserialize(d)?;
                    let out: [u8; $n] = v.as_slice().try_into().map_err(|_| {
                        D::Error::custom(format!(
                            "expected {} bytes for {}, got {}",
                            $n,
                            stringify!($ty),
                            v.len()
                        ))
                    })?;
                    Ok($ty(out))
                }
            }
        }
    };
}

pub(crate) use hex_serde;
