//! What the current thread is doing for corio: which scheduler it belongs to
//! (a worker's, or a `block_on` call's) and which task it is polling.
//!
//! This is how free functions like `create_task` find their runtime, and how
//! a waker firing on a worker thread pushes to that worker's own queue
//! instead of the shared injector.

use crate::context::Snapshot;
use crate::loom::sync::Arc;
use crate::loom::thread_local;
use crate::runtime::driver::Driver;
use crate::runtime::scheduler::local::LocalOwner;
use crate::runtime::scheduler::worker::WorkerCore;
use crate::runtime::scheduler::Shared;
use crate::runtime::Handle;
use crate::task::Header;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::rc::Rc;

/// The scheduler the current thread is running.
pub(crate) enum Scheduler {
    /// A worker thread of a runtime.
    Worker(Rc<WorkerCore>),
    /// A thread inside `Runtime::block_on` (or `run`).
    BlockOn {
        shared: Arc<Shared>,
        local: Arc<LocalOwner>,
        /// The worker event loop that this thread's timers and sockets use
        /// (it has none of its own).
        driver: Arc<Driver>,
    },
}

impl Scheduler {
    fn shared(&self) -> &Arc<Shared> {
        match self {
            Scheduler::Worker(core) => &core.shared,
            Scheduler::BlockOn { shared, .. } => shared,
        }
    }

    fn driver(&self) -> &Arc<Driver> {
        match self {
            Scheduler::Worker(core) => &core.shared.remotes[core.index].driver,
            Scheduler::BlockOn { driver, .. } => driver,
        }
    }

    fn local(&self) -> &Arc<LocalOwner> {
        match self {
            Scheduler::Worker(core) => &core.local,
            Scheduler::BlockOn { local, .. } => local,
        }
    }
}

struct Context {
    scheduler: RefCell<Option<Scheduler>>,
    /// The task being polled on this thread; set only for the duration of a
    /// poll, during which the poller holds a reference to it.
    current_task: Cell<Option<NonNull<Header>>>,
    /// The context variables of code that is not in a task.
    vars: RefCell<Snapshot>,
    /// On a blocking-pool thread during a call: the runtime it belongs to,
    /// so that `Handle::current` (and `create_task`) work in the call.
    blocking: RefCell<Option<Handle>>,
}

/// Local-task owners of the `block_on` calls this thread made, by runtime
/// id. They outlive each call (a local task spawned in one `block_on` runs on
/// in the next) and are shut down with their runtime, or when the thread
/// exits if the runtime was shut down from another thread.
struct BlockOnLocals(RefCell<Vec<(u64, Arc<LocalOwner>)>>);

impl Drop for BlockOnLocals {
    fn drop(&mut self) {
        for (_, owner) in self.0.take() {
            owner.shutdown();
        }
    }
}

thread_local! {
    static CONTEXT: Context = Context {
        scheduler: RefCell::new(None),
        current_task: Cell::new(None),
        vars: RefCell::new(None),
        blocking: RefCell::new(None),
    };
    static BLOCK_ON_LOCALS: BlockOnLocals = BlockOnLocals(RefCell::new(Vec::new()));
}

/// Restores the previous scheduler when dropped.
pub(crate) struct EnterGuard {
    prev: Option<Scheduler>,
}

/// Marks this thread as running `scheduler` until the guard drops.
pub(crate) fn enter(scheduler: Scheduler) -> EnterGuard {
    let prev = CONTEXT.with(|cx| cx.scheduler.replace(Some(scheduler)));
    EnterGuard { prev }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        // The replaced value is dropped after the borrow ends: dropping a
        // worker core may run task destructors that look at the context.
        let old = CONTEXT.try_with(|cx| cx.scheduler.replace(prev));
        drop(old);
    }
}

/// Runs `f` with the current scheduler, or with `None` outside a runtime (and
/// while the thread's locals are being destroyed).
pub(crate) fn with_scheduler<R>(f: impl FnOnce(Option<&Scheduler>) -> R) -> R {
    let mut f = Some(f);
    let res = CONTEXT.try_with(|cx| match cx.scheduler.try_borrow() {
        Ok(sched) => Some((f.take().expect("called once"))(sched.as_ref())),
        Err(_) => None,
    });
    match res {
        Ok(Some(r)) => r,
        _ => (f.take().expect("called once"))(None),
    }
}

/// Whether this thread is a worker or inside `block_on`.
pub(crate) fn is_entered() -> bool {
    with_scheduler(|s| s.is_some())
}

/// The runtime this thread belongs to, if any (a blocking-pool thread
/// belongs to its runtime while it runs a call).
pub(crate) fn try_current_handle() -> Option<Handle> {
    with_scheduler(|s| {
        s.map(|s| Handle {
            shared: s.shared().clone(),
        })
    })
    .or_else(|| {
        CONTEXT
            .try_with(|cx| cx.blocking.borrow().clone())
            .ok()
            .flatten()
    })
}

/// Marks this thread as running a blocking call of `handle`'s runtime until
/// the guard drops.
pub(crate) fn enter_blocking(handle: Handle) -> BlockingGuard {
    let prev = CONTEXT
        .try_with(|cx| cx.blocking.replace(Some(handle)))
        .ok()
        .flatten();
    BlockingGuard { prev }
}

/// Restores the previous blocking handle when dropped.
pub(crate) struct BlockingGuard {
    prev: Option<Handle>,
}

impl Drop for BlockingGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let old = CONTEXT.try_with(|cx| cx.blocking.replace(prev));
        drop(old);
    }
}

/// The runtime this thread belongs to.
///
/// # Panics
/// Outside a runtime, with a message naming `what` was called.
#[track_caller]
pub(crate) fn current_handle(what: &str) -> Handle {
    match try_current_handle() {
        Some(handle) => handle,
        None => panic!(
            "{what} must be called from inside a corio runtime (inside `corio::run`, \
             `Runtime::block_on` or a task); outside one, use `Handle::spawn` or `Runtime::block_on`"
        ),
    }
}

/// The event loop that timers and sockets created on this thread belong to:
/// the worker's own, or for a `block_on` thread the worker it was given.
///
/// # Panics
/// Outside a runtime, with a message naming `what` was called.
#[track_caller]
pub(crate) fn current_driver(what: &str) -> Arc<Driver> {
    match with_scheduler(|s| s.map(|s| s.driver().clone())) {
        Some(driver) => driver,
        None => panic!("{what} must be called from inside a corio runtime (inside `corio::run`, `Runtime::block_on` or a task)"),
    }
}

/// The pieces of this thread's event loop: the owner of the loop's local
/// tasks (where callbacks run), and the driver its timers and file
/// descriptors use.
pub(crate) fn current_loop() -> Option<(Arc<LocalOwner>, Arc<Driver>, Handle)> {
    with_scheduler(|s| {
        s.map(|s| {
            let handle = Handle {
                shared: s.shared().clone(),
            };
            (s.local().clone(), s.driver().clone(), handle)
        })
    })
}

/// The local-task owner of this thread, if it is a worker or in `block_on`.
pub(crate) fn current_local_owner() -> Option<Arc<LocalOwner>> {
    with_scheduler(|s| s.map(|s| s.local().clone()))
}

/// Whether `owner` belongs to this thread (so queuing to it needs no unpark).
pub(crate) fn is_current_local_owner(owner: &Arc<LocalOwner>) -> bool {
    with_scheduler(|s| s.is_some_and(|s| Arc::ptr_eq(s.local(), owner)))
}

/// Whether this thread is one of `shared`'s workers.
pub(crate) fn is_worker_of(shared: &Arc<Shared>) -> bool {
    with_scheduler(
        |s| matches!(s, Some(Scheduler::Worker(core)) if Arc::ptr_eq(&core.shared, shared)),
    )
}

/// This thread's local-task owner for `block_on` on `shared`, created (with
/// `unparker` to wake this thread) on first use.
pub(crate) fn block_on_local_owner(
    shared: &Arc<Shared>,
    unparker: impl FnOnce() -> crate::runtime::park::Unparker,
) -> Arc<LocalOwner> {
    BLOCK_ON_LOCALS.with(|locals| {
        let mut locals = locals.0.borrow_mut();
        if let Some((_, owner)) = locals.iter().find(|(id, _)| *id == shared.id) {
            return owner.clone();
        }
        let owner = Arc::new(LocalOwner::new(unparker(), shared.debug.is_some()));
        shared.register_local_owner(&owner);
        locals.push((shared.id, owner.clone()));
        owner
    })
}

/// Removes and returns this thread's `block_on` owner for runtime `id`.
pub(crate) fn take_block_on_local_owner(id: u64) -> Option<Arc<LocalOwner>> {
    BLOCK_ON_LOCALS
        .try_with(|locals| {
            let mut locals = locals.0.borrow_mut();
            let pos = locals.iter().position(|(rt, _)| *rt == id)?;
            Some(locals.swap_remove(pos).1)
        })
        .ok()
        .flatten()
}

/// Restores the previously polled task when dropped.
pub(crate) struct CurrentTaskGuard {
    prev: Option<NonNull<Header>>,
}

/// Records `task` as the one being polled until the guard drops.
pub(crate) fn set_current_task(task: NonNull<Header>) -> CurrentTaskGuard {
    let prev = CONTEXT
        .try_with(|cx| cx.current_task.replace(Some(task)))
        .ok()
        .flatten();
    CurrentTaskGuard { prev }
}

impl Drop for CurrentTaskGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|cx| cx.current_task.set(self.prev));
    }
}

/// Clears the current task (for `block_on`'s own future) until the guard
/// drops.
pub(crate) fn clear_current_task() -> CurrentTaskGuard {
    let prev = CONTEXT
        .try_with(|cx| cx.current_task.replace(None))
        .ok()
        .flatten();
    CurrentTaskGuard { prev }
}

/// Runs `f` on the header of the task being polled, if any.
pub(crate) fn with_current_task<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    let ptr = CONTEXT
        .try_with(|cx| cx.current_task.get())
        .ok()
        .flatten()?;
    // SAFETY: the pointer is only set while the task is being polled on this
    // thread (see `set_current_task`), and the poller holds a reference, so
    // the header is live for the whole call.
    Some(f(unsafe { ptr.as_ref() }))
}

/// Runs `f` on the current context variables: the polled task's, else the
/// thread's. `f` must not run user code (see `crate::context`).
pub(crate) fn with_current_context<R>(f: impl FnOnce(&Snapshot) -> R) -> R {
    let mut f = Some(f);
    let in_task = with_current_task(|header| {
        header.context.with(|ptr| {
            // SAFETY: only the thread polling the task (holding RUNNING)
            // touches its context, and `f` runs no code that could write it.
            (f.take().expect("called once"))(unsafe { &*ptr })
        })
    });
    match in_task {
        Some(r) => r,
        None => {
            let f = f.take().expect("called once");
            match CONTEXT.try_with(|cx| cx.vars.try_borrow().ok().map(|v| (*v).clone())) {
                Ok(Some(snap)) => f(&snap),
                _ => f(&None),
            }
        }
    }
}

/// Runs `f` on the current context variables, to change them. `f` must not
/// run user code.
pub(crate) fn with_current_context_mut<R>(f: impl FnOnce(&mut Snapshot) -> R) -> R {
    let mut f = Some(f);
    let in_task = with_current_task(|header| {
        header.context.with_mut(|ptr| {
            // SAFETY: as in `with_current_context`: this thread polls the
            // task, and no other borrow of the context is live (`f` runs no
            // user code, and reads never keep a borrow).
            (f.take().expect("called once"))(unsafe { &mut *ptr })
        })
    });
    match in_task {
        Some(r) => r,
        None => {
            let f = f.take().expect("called once");
            let mut f = Some(f);
            let res = CONTEXT.try_with(|cx| {
                let mut vars = cx.vars.borrow_mut();
                (f.take().expect("called once"))(&mut vars)
            });
            match res {
                Ok(r) => r,
                // The thread's locals are being destroyed: a throwaway map.
                Err(_) => (f.take().expect("called once"))(&mut None),
            }
        }
    }
}

/// Replaces this thread's own context (not a task's); returns the old one.
pub(crate) fn replace_thread_context(snap: Snapshot) -> Snapshot {
    CONTEXT.try_with(|cx| cx.vars.replace(snap)).ok().flatten()
}

/// A number that differs between threads (for spreading per-thread choices).
pub(crate) fn thread_seed() -> usize {
    use std::hash::{Hash, Hasher};
    // DefaultHasher::new has fixed keys: the same thread gets the same answer,
    // which loom's replays of a model need.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut h);
    h.finish() as usize
}
