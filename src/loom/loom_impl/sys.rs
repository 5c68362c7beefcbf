//! A mock of the three `mio` types a worker's driver uses, built on loom's
//! mutex and condition variable so that the driver's park/unpark protocol is
//! model-checked: `Poll::poll` blocks until `Waker::wake` (or, with a timeout,
//! advances the mock clock and returns), and reports the waker's token.

use super::sync::{Arc, Condvar, Mutex};
use std::io;
use std::time::Duration;

pub(crate) use mio::Token;

struct Shared {
    woken: Mutex<bool>,
    cvar: Condvar,
}

pub(crate) struct Poll {
    shared: Arc<Shared>,
    waker_token: Mutex<Option<Token>>,
}

pub(crate) struct Waker {
    shared: Arc<Shared>,
}

pub(crate) struct Events {
    tokens: Vec<Token>,
}

pub(crate) struct Event {
    token: Token,
}

impl Poll {
    pub(crate) fn new() -> io::Result<Poll> {
        Ok(Poll {
            shared: Arc::new(Shared {
                woken: Mutex::new(false),
                cvar: Condvar::new(),
            }),
            waker_token: Mutex::new(None),
        })
    }

    /// Stands in for `mio::Poll::registry`, which `Waker::new` takes.
    pub(crate) fn registry(&self) -> &Poll {
        self
    }

    pub(crate) fn poll(
        &mut self,
        events: &mut Events,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        events.tokens.clear();
        let mut woken = self.shared.woken.lock();
        if !*woken {
            match timeout {
                Some(t) if t.is_zero() => return Ok(()),
                Some(t) => {
                    // "Sleep" until the deadline: time jumps, the wait ends.
                    drop(woken);
                    super::clock::advance(t);
                    return Ok(());
                }
                None => {
                    while !*woken {
                        self.shared.cvar.wait(&mut woken);
                    }
                }
            }
        }
        *woken = false;
        if let Some(token) = *self.waker_token.lock() {
            events.tokens.push(token);
        }
        Ok(())
    }
}

impl Waker {
    pub(crate) fn new(poll: &Poll, token: Token) -> io::Result<Waker> {
        *poll.waker_token.lock() = Some(token);
        Ok(Waker {
            shared: poll.shared.clone(),
        })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        *self.shared.woken.lock() = true;
        self.shared.cvar.notify_one();
        Ok(())
    }
}

impl Events {
    pub(crate) fn with_capacity(_: usize) -> Events {
        Events { tokens: Vec::new() }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.tokens.iter().map(|&token| Event { token })
    }
}

impl Event {
    pub(crate) fn token(&self) -> Token {
        self.token
    }
}
