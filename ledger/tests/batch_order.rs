//! `Batch::sorted_ops` against a plain stable sort: column, then key
//! bytes, writes to one key in the order they were made.

use chancery_ledger::Batch;
use chancery_ledger::kv::Column;
use proptest::prelude::*;

/// Keys of 0–24 bytes from a small alphabet, so equal keys, shared
/// 16-byte prefixes and keys that are prefixes of others all happen.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(0u8..3, 0..24),
        (
            proptest::collection::vec(0u8..2, 16..17),
            proptest::collection::vec(any::<u8>(), 0..4)
        )
            .prop_map(|(mut a, b)| {
                a.extend(b);
                a
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn sorted_ops_is_a_stable_sort_by_column_and_key(
        writes in proptest::collection::vec((0usize..3, key(), proptest::option::of(any::<u8>())), 0..60),
    ) {
        let cols = [Column::State, Column::Index, Column::Records];
        let mut b = Batch::new();
        for (c, k, v) in &writes {
            match v {
                Some(v) => b.put(cols[*c], k, [*v]),
                None => b.delete(cols[*c], k),
            }
        }
        let mut expected: Vec<(Column, Vec<u8>, Option<Vec<u8>>)> = writes
            .iter()
            .map(|(c, k, v)| (cols[*c], k.clone(), v.map(|v| vec![v])))
            .collect();
        expected.sort_by(|a, b| (a.0.index(), &a.1).cmp(&(b.0.index(), &b.1)));
        let got: Vec<(Column, Vec<u8>, Option<Vec<u8>>)> = b
            .sorted_ops()
            .map(|(c, k, v)| (c, k.to_vec(), v.map(<[u8]>::to_vec)))
            .collect();
        prop_assert_eq!(got, expected);
    }
}
