//! `corio::StreamWriter`'s background flusher (`src/streams/writer.rs`): the
//! flusher finishing and exiting while another thread writes and closes.
//! A write that lands between "queue empty" and "flusher gone" and is
//! neither written by the exiting flusher nor given a new one would leave
//! `wait_closed` parked forever, which loom reports as a deadlock; bytes
//! lost or reordered fail the final assertion.
#![cfg(loom)]

use corio::loom_hooks::GatedSink;
use loom::thread;
use loom_tests::{block_on, idle_runtime, model, quiet_drop};

/// The flusher waits on a closed sink with "ab" queued; one thread opens
/// the sink (the flusher writes and may exit) while the main thread writes
/// "cd" and closes. Whatever the interleaving, the sink receives "abcd"
/// then the shutdown, and `wait_closed` returns.
#[test]
fn write_races_with_flusher_exit() {
    model("streams::write_races_with_flusher_exit", || {
        let rt = idle_runtime(1);
        let (writer, sink) = GatedSink::writer(&rt.handle());
        // Queued (the sink refuses the inline attempt): a flusher is spawned.
        writer.write(b"ab");
        let opener = {
            let sink = sink.clone();
            thread::spawn(move || sink.open())
        };
        writer.write(b"cd");
        writer.close();
        block_on(writer.wait_closed()).unwrap();
        opener.join().unwrap();
        assert_eq!(sink.received(), (b"abcd".to_vec(), true));
        drop(writer);
        quiet_drop(rt);
    });
}
