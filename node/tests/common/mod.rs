//! Helpers the node's integration tests share.

/// With `CHANCERY_TEST_LOG` set (a filter such as `debug`), the nodes
/// log into the test's captured output, which a failing test prints.
pub fn logs() {
    if let Ok(filter) = std::env::var("CHANCERY_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
}
