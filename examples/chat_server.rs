//! A line-based chat server on corio's streams: every line a client sends is
//! broadcast to every *other* connected client.
//!
//! ```text
//! cargo run --release --example chat_server                      # 127.0.0.1:7001
//! cargo run --release --example chat_server -- --addr 127.0.0.1:0
//! ```
//!
//! Prints `listening on <address>` once bound. Try it with two or three
//! `nc 127.0.0.1 7001` in separate terminals.
//!
//! # What clients see
//!
//! * On joining: `* you are <name>` where the name is the client's address
//!   (`127.0.0.1:54321`); the others get `* <name> joined`.
//! * Each line `text` a client sends reaches every other client as
//!   `<name>: text`; the sender gets nothing back. A last line without a
//!   newline (the client closed mid-line) is delivered too.
//! * On leaving (closing, a reset, or being dropped as too slow, below) the
//!   others get `* <name> left`.
//! * A line longer than the reader's limit (64 KiB) is not delivered: its
//!   sender gets `* line too long, closing` and is disconnected (the others
//!   see it leave).
//!
//! # Slow clients
//!
//! Broadcasting uses `StreamWriter::write`, which never waits, so a client
//! that does not read never holds up the sender or anybody else: what it
//! does not read piles up in its own writer's buffer. That buffer is
//! bounded: a client with more than [`MAX_BACKLOG`] bytes unsent after a
//! broadcast is dropped from the room (the others see it leave; its
//! connection is aborted at once, its backlog discarded). The policy is
//! IRC's "send queue exceeded": bounded memory per client, and no message
//! is ever silently skipped for a client that stays (it gets every line,
//! in order, or it is disconnected).
//!
//! `tests/example_chat.rs` drives this server as clients would.

use corio::streams::ReadUntilError;
use corio::sync::Event;
use corio::{Server, StreamReader, StreamWriter};
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

/// Unsent bytes a client may have queued before it is dropped as too slow.
pub const MAX_BACKLOG: usize = 256 * 1024;

/// Starts a chat server on `addr` (port 0 picks one: see
/// [`Server::local_addrs`]), running on the current runtime until closed.
pub async fn serve(addr: &str) -> io::Result<Server> {
    let room = Arc::new(Room::default());
    corio::start_server(
        move |reader, writer| {
            let room = room.clone();
            async move { room.session(reader, writer).await }
        },
        addr,
    )
    .await
}

/// The connected clients.
#[derive(Default)]
struct Room {
    members: Mutex<HashMap<u64, Member>>,
    next_id: AtomicU64,
}

struct Member {
    name: String,
    writer: StreamWriter,
    /// Set when the member is dropped as too slow: ends its session.
    kicked: Arc<Event>,
}

/// What a session waits for next.
enum Next {
    Line(Result<Vec<u8>, ReadUntilError>),
    Kicked,
}

impl Room {
    /// One client's whole stay.
    async fn session(&self, mut reader: StreamReader, writer: StreamWriter) {
        let name = match writer.peer_addr() {
            Ok(a) => a.to_string(),
            Err(_) => return,
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let kicked = Arc::new(Event::new());
        {
            // Joining, the notice and the welcome under one lock: a client
            // sees exactly the lines broadcast after its welcome.
            let mut members = self.members.lock().unwrap();
            let notice = format!("* {name} joined\n");
            members.insert(
                id,
                Member {
                    name: name.clone(),
                    writer: writer.clone(),
                    kicked: kicked.clone(),
                },
            );
            Self::broadcast(&mut members, id, notice.as_bytes());
            writer.write(format!("* you are {name}\n").as_bytes());
        }
        loop {
            let next = {
                let mut line = pin!(reader.readline());
                let mut kick = pin!(kicked.wait());
                poll_fn(|cx| {
                    if let Poll::Ready(l) = line.as_mut().poll(cx) {
                        return Poll::Ready(Next::Line(l));
                    }
                    if kick.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Next::Kicked);
                    }
                    Poll::Pending
                })
                .await
            };
            match next {
                Next::Line(Ok(line)) if line.is_empty() => break, // end of input
                Next::Line(Ok(mut line)) => {
                    let complete = line.ends_with(b"\n");
                    if !complete {
                        line.push(b'\n');
                    }
                    let mut msg = Vec::with_capacity(name.len() + 2 + line.len());
                    msg.extend_from_slice(name.as_bytes());
                    msg.extend_from_slice(b": ");
                    msg.extend_from_slice(&line);
                    Self::broadcast(&mut self.members.lock().unwrap(), id, &msg);
                    if !complete {
                        break; // the partial line came with end of input
                    }
                }
                Next::Line(Err(ReadUntilError::LimitOverrun(_))) => {
                    // After an overlong line, asyncio's readline would go on
                    // to deliver its tail as a line of its own: a chat line
                    // that long is abuse, so the client is told and dropped.
                    writer.write(b"* line too long, closing\n");
                    break;
                }
                Next::Line(Err(_)) => break,
                Next::Kicked => {
                    // It does not read: flushing its backlog could take
                    // for ever. Drop the backlog and the connection now.
                    writer.abort();
                    return;
                }
            }
        }
        self.leave(id);
        writer.close();
        let _ = writer.wait_closed().await;
    }

    /// Removes `id` (if still there) and tells the others.
    fn leave(&self, id: u64) {
        let mut members = self.members.lock().unwrap();
        if let Some(m) = members.remove(&id) {
            let notice = format!("* {} left\n", m.name);
            Self::broadcast(&mut members, id, notice.as_bytes());
        }
    }

    /// Writes `msg` to every member but `from`; drops (and announces) the
    /// members whose backlog went over [`MAX_BACKLOG`], which may make
    /// others too slow in turn.
    fn broadcast(members: &mut HashMap<u64, Member>, from: u64, msg: &[u8]) {
        let mut pending = vec![(from, msg.to_vec())];
        while let Some((from, msg)) = pending.pop() {
            let mut slow = Vec::new();
            for (&id, m) in members.iter() {
                if id != from {
                    m.writer.write(&msg);
                    if m.writer.get_write_buffer_size() > MAX_BACKLOG {
                        slow.push(id);
                    }
                }
            }
            for id in slow {
                if let Some(m) = members.remove(&id) {
                    m.kicked.set();
                    pending.push((id, format!("* {} left\n", m.name).into_bytes()));
                }
            }
        }
    }
}

const USAGE: &str = "\
usage: chat_server [--addr HOST:PORT]

  --addr HOST:PORT  address to listen on (default 127.0.0.1:7001; port 0 picks one)
  --help            print this and exit";

fn main() {
    let mut addr = "127.0.0.1:7001".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--help" | "-h", _) => {
                println!("{USAGE}");
                return;
            }
            ("--addr", Some(value)) => addr = value,
            _ => {
                eprintln!("chat_server: bad argument {arg:?}\n\n{USAGE}");
                std::process::exit(2);
            }
        }
    }
    let result = corio::run(async {
        let server = serve(&addr).await?;
        for a in server.local_addrs() {
            println!("listening on {a}");
        }
        server.serve_forever().await;
        io::Result::Ok(())
    });
    if let Err(e) = result {
        eprintln!("chat_server: cannot listen on {addr}: {e}");
        std::process::exit(1);
    }
}
