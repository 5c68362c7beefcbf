//! `Server`: what `start_server` and `EventLoop::create_server` return.
//!
//! A server is a set of accept loops (tasks that own the listening sockets)
//! and a count of the connections they started. `close` cancels the accept
//! loops, which drops (closes) the listeners, so no new connection is
//! accepted; connections already open carry on. `wait_closed` waits until
//! the server is closed and every connection it started has finished, as in
//! asyncio 3.12.

use crate::loom::sync::{Arc, Mutex};
use crate::sync::Event;
use crate::task::Task;
use std::fmt;
use std::net::SocketAddr;

/// A listening server: asyncio's `Server`.
///
/// It is a cheap handle: clones refer to the same server. Dropping every
/// handle does not stop it (as a dropped `Task` keeps running); call
/// [`close`](Server::close).
///
/// ```no_run
/// corio::run(async {
///     let server = corio::start_server(
///         |mut reader: corio::StreamReader, writer: corio::StreamWriter| async move {
///             while let Ok(line) = reader.readline().await {
///                 if line.is_empty() {
///                     break;
///                 }
///                 writer.write(&line);
///             }
///             writer.close();
///         },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     println!("listening on {:?}", server.local_addrs());
///     server.serve_forever().await;
/// });
/// ```
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

struct Shared {
    local_addrs: Vec<SocketAddr>,
    state: Mutex<State>,
    /// Set by `close`.
    closed: Event,
    /// Set once closed and no connection is left.
    finished: Event,
}

struct State {
    serving: bool,
    acceptors: Vec<Task<()>>,
    connections: usize,
}

impl Server {
    /// A serving server listening on `local_addrs` (empty for Unix sockets),
    /// with no accept loop yet.
    pub(crate) fn new(local_addrs: Vec<SocketAddr>) -> Server {
        Server {
            shared: Arc::new(Shared {
                local_addrs,
                state: Mutex::new(State {
                    serving: true,
                    acceptors: Vec::new(),
                    connections: 0,
                }),
                closed: Event::new(),
                finished: Event::new(),
            }),
        }
    }

    /// Hands an accept loop to the server; `close` cancels it. An accept
    /// loop added to a closed server is cancelled at once.
    pub(crate) fn add_acceptor(&self, task: Task<()>) {
        let mut state = self.shared.state.lock();
        if state.serving {
            state.acceptors.push(task);
        } else {
            drop(state);
            task.cancel();
        }
    }

    /// Counts a new connection; it is finished when the guard drops.
    pub(crate) fn connection(&self) -> ConnectionGuard {
        self.shared.state.lock().connections += 1;
        ConnectionGuard {
            shared: self.shared.clone(),
        }
    }

    /// The addresses the server listens on (one per listening socket; empty
    /// for a Unix-socket server).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.shared.local_addrs.clone()
    }

    /// `true` until [`close`](Server::close) is called.
    pub fn is_serving(&self) -> bool {
        self.shared.state.lock().serving
    }

    /// Stops accepting: the listening sockets are closed. Connections that
    /// are open carry on; [`wait_closed`](Server::wait_closed) waits for
    /// them. Calling it again does nothing.
    pub fn close(&self) {
        let (acceptors, idle) = {
            let mut state = self.shared.state.lock();
            if !state.serving {
                return;
            }
            state.serving = false;
            (std::mem::take(&mut state.acceptors), state.connections == 0)
        };
        for task in &acceptors {
            task.cancel();
        }
        self.shared.closed.set();
        if idle {
            self.shared.finished.set();
        }
    }

    /// Serves until the server is closed (from another task, or a signal
    /// handler). Dropping the future does not close the server.
    pub async fn serve_forever(&self) {
        self.shared.closed.wait().await;
    }

    /// Waits until the server is closed and every connection it accepted
    /// has finished (its handler returned, or its protocol lost the
    /// connection).
    pub async fn wait_closed(&self) {
        self.shared.finished.wait().await;
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("Server")
            .field("local_addrs", &self.shared.local_addrs)
            .field("serving", &state.serving)
            .field("connections", &state.connections)
            .finish()
    }
}

/// One open connection of a [`Server`]; dropping it ends the connection's
/// count.
pub(crate) struct ConnectionGuard {
    shared: Arc<Shared>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let finished = {
            let mut state = self.shared.state.lock();
            state.connections -= 1;
            !state.serving && state.connections == 0
        };
        if finished {
            self.shared.finished.set();
        }
    }
}
