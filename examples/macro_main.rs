//! `#[corio::main]`: an `async fn main` that runs on a corio runtime.
//!
//! ```text
//! cargo run --example macro_main
//! ```

use std::time::Duration;

#[corio::main(worker_threads = 2)]
async fn main() -> Result<(), corio::JoinError> {
    let slow = corio::create_task(async {
        corio::sleep(Duration::from_millis(50)).await;
        "slow"
    });
    let fast = corio::create_task(async { "fast" });
    println!("{} then {}", fast.await?, slow.await?);
    Ok(())
}
