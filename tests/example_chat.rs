//! Drives `examples/chat_server.rs` as chat clients would: plain blocking
//! std sockets on their own threads, the server on a corio runtime.

mod common;

#[allow(dead_code)]
#[path = "../examples/chat_server.rs"]
mod chat_server;

use common::{rt, watchdog, LONG};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};

/// Runs `client(addr)` on a plain thread against a fresh chat server,
/// keeping the runtime's `block_on` alive meanwhile, then closes the server.
fn with_server(client: impl FnOnce(SocketAddr) + Send + 'static) {
    watchdog(LONG * 3, move || {
        let rt = rt(2);
        rt.block_on(async move {
            let server = chat_server::serve("127.0.0.1:0").await.unwrap();
            let addr = server.local_addrs()[0];
            corio::to_thread(move || client(addr)).await.unwrap();
            server.close();
        })
    })
}

struct Client {
    name: String,
    stream: TcpStream,
    lines: BufReader<TcpStream>,
}

impl Client {
    /// Connects and reads the welcome, which comes after the join is
    /// announced to the others: once it is read, this client is in the room.
    fn join(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(LONG)).unwrap();
        let mut c = Client {
            name: String::new(),
            lines: BufReader::new(stream.try_clone().unwrap()),
            stream,
        };
        let welcome = c.line();
        c.name = welcome
            .strip_prefix("* you are ")
            .unwrap_or_else(|| panic!("unexpected welcome {welcome:?}"))
            .to_string();
        assert_eq!(c.name, c.stream.local_addr().unwrap().to_string());
        c
    }

    /// The next line, without its newline.
    fn line(&mut self) -> String {
        let mut s = String::new();
        let n = self.lines.read_line(&mut s).unwrap();
        assert!(n > 0, "server closed the connection");
        assert!(s.ends_with('\n'), "line without newline: {s:?}");
        s.pop();
        s
    }

    fn say(&mut self, text: &str) {
        self.stream
            .write_all(format!("{text}\n").as_bytes())
            .unwrap();
    }
}

#[test]
fn lines_reach_every_other_client_and_not_the_sender() {
    with_server(|addr| {
        let mut a = Client::join(addr);
        let mut b = Client::join(addr);
        assert_eq!(a.line(), format!("* {} joined", b.name));
        let mut c = Client::join(addr);
        assert_eq!(a.line(), format!("* {} joined", c.name));
        assert_eq!(b.line(), format!("* {} joined", c.name));

        a.say("hello from a");
        assert_eq!(b.line(), format!("{}: hello from a", a.name));
        assert_eq!(c.line(), format!("{}: hello from a", a.name));
        // If `a` had been sent its own line, it would come before this one.
        b.say("hi from b");
        assert_eq!(a.line(), format!("{}: hi from b", b.name));
        assert_eq!(c.line(), format!("{}: hi from b", b.name));
        c.say("c here");
        assert_eq!(a.line(), format!("{}: c here", c.name));
        assert_eq!(b.line(), format!("{}: c here", c.name));
    });
}

#[test]
fn a_client_leaving_does_not_break_the_others() {
    with_server(|addr| {
        let mut a = Client::join(addr);
        let mut b = Client::join(addr);
        let c = Client::join(addr);
        assert_eq!(a.line(), format!("* {} joined", b.name));
        assert_eq!(a.line(), format!("* {} joined", c.name));
        assert_eq!(b.line(), format!("* {} joined", c.name));

        let c_name = c.name.clone();
        drop(c);
        assert_eq!(a.line(), format!("* {c_name} left"));
        assert_eq!(b.line(), format!("* {c_name} left"));
        a.say("still here?");
        assert_eq!(b.line(), format!("{}: still here?", a.name));
        b.say("yes");
        assert_eq!(a.line(), format!("{}: yes", b.name));

        // A last line without its newline is still delivered, then the leave.
        b.stream.write_all(b"bye").unwrap();
        b.stream.shutdown(Shutdown::Write).unwrap();
        assert_eq!(a.line(), format!("{}: bye", b.name));
        assert_eq!(a.line(), format!("* {} left", b.name));
        // And the server closed b's connection after it left.
        let mut rest = String::new();
        b.lines.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "");

        // Newcomers are still welcome.
        let d = Client::join(addr);
        assert_eq!(a.line(), format!("* {} joined", d.name));
    });
}

#[test]
fn an_overlong_line_is_not_delivered_and_its_sender_is_dropped() {
    with_server(|addr| {
        let mut a = Client::join(addr);
        let mut b = Client::join(addr);
        assert_eq!(a.line(), format!("* {} joined", b.name));
        let long = "x".repeat(200 * 1024);
        // The server may close before taking all of it: a failed write is
        // fine, the answer below is what counts.
        let _ = a.stream.write_all(format!("{long}\n").as_bytes());
        assert_eq!(a.line(), "* line too long, closing");
        // Not a single chunk of the long line reached `b`.
        assert_eq!(b.line(), format!("* {} left", a.name));
        let mut c = Client::join(addr);
        assert_eq!(b.line(), format!("* {} joined", c.name));
        b.say("short");
        assert_eq!(c.line(), format!("{}: short", b.name));
    });
}

/// A client that never reads is dropped once its backlog passes the limit;
/// the sender is never held up and the reading client gets every line in
/// order.
#[test]
fn a_client_that_does_not_read_is_dropped_without_holding_up_others() {
    with_server(|addr| {
        let slow = Client::join(addr);
        let mut a = Client::join(addr);
        let mut b = Client::join(addr);
        assert_eq!(a.line(), format!("* {} joined", b.name));

        // Lock step of 64 KiB (16 lines of 4 KiB): `b` reads each batch
        // before the next, so only `slow` falls behind. It must be dropped
        // once the kernel cannot hold more for it: its receive buffer grows
        // only as it reads (so it stays near its initial 128 KiB), and the
        // server's send buffer to `tcp_wmem`'s maximum (4 MiB by default):
        // allow for 16 times that before calling it a failure.
        let body = "y".repeat(4095);
        let mut slow_left = false;
        for round in 0..1024 {
            if slow_left {
                break;
            }
            for i in 0..16 {
                a.say(&format!("{round:03}{i:02}{}", &body[5..]));
            }
            let mut got = 0;
            while got < 16 {
                let line = b.line();
                if line == format!("* {} left", slow.name) {
                    assert!(!slow_left, "left twice");
                    slow_left = true;
                    continue;
                }
                let expected = format!("{}: {round:03}{got:02}", a.name);
                assert!(
                    line.starts_with(&expected),
                    "round {round} line {got}: got {:?}",
                    &line[..40.min(line.len())]
                );
                got += 1;
            }
        }
        assert!(slow_left, "the slow client was never dropped");
        assert_eq!(a.line(), format!("* {} left", slow.name));
        // The dropped client's connection is aborted: it ends without its
        // backlog being flushed (the client never reads it all).
        let mut sink = Vec::new();
        let mut s = slow.stream;
        s.set_read_timeout(Some(LONG)).unwrap();
        s.read_to_end(&mut sink).unwrap();
    });
}
