//! What makes sure the trace is never lost: the exit hook, the panic hook, and the signal
//! thread (a fatal signal the program does not handle writes everything out and then dies the
//! way it would have; the dump signal prints every open frame and lets the program run on).
//!
//! The signal handler itself only writes a byte to the signal thread's pipe; the work is done
//! on that thread. A program that handles the signal itself keeps its way of stopping: the trace
//! goes on and the exit hook ends it. The exit hook is a C callback: it catches any panic so
//! that none unwinds into C.

use std::sync::Once;
use std::time::Duration;

use crate::capture::thread::runtime_work;
use crate::collect::collector;
use crate::config::{self, Config};

static INSTALL: Once = Once::new();

/// How long a hook waits for a collection already under way.
const PATIENCE: Duration = Duration::from_secs(2);

/// Installs the hooks, once.
pub fn install(cfg: &'static Config) {
    INSTALL.call_once(|| {
        // Replacing the panic hook from a panicking thread would itself panic; the exit hook
        // still covers that process.
        if !std::thread::panicking() {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                // A recorded value's `Debug` panicked: the runtime catches it and records
                // `<panicked>`; the program never sees that panic, nor do its hooks.
                if crate::value::formatting() {
                    return;
                }
                runtime_work(on_panic);
                previous(info);
            }));
        }
        register_at_exit();
        #[cfg(unix)]
        signals::install(cfg);
        #[cfg(not(unix))]
        let _ = cfg;
    });
}

/// Before the panic message: everything captured so far is written, so the trace leads up to
/// the panic. Under `panic = "abort"` nothing runs after the hook, so the run ends here.
fn on_panic() {
    if cfg!(panic = "abort") {
        finish();
    } else {
        collector::with_flushed(Duration::from_millis(500), |_| ());
    }
}

/// The end of the run: everything collected, reports written, the chrome array closed, and a
/// note of calls the runtime could not trace.
pub fn finish() {
    if collector::finished() {
        return;
    }
    collector::finish(PATIENCE);
    let skipped = crate::capture::thread::skipped();
    if skipped > 0 {
        config::warn(&format!(
            "{} made while the runtime was working on their thread (an allocator, a Drop or Debug impl it ran) {} not traced",
            crate::units::count(skipped, "traced call"),
            if skipped == 1 { "was" } else { "were" }
        ));
    }
}

#[cfg(any(unix, windows))]
fn register_at_exit() {
    extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
    }
    extern "C" fn at_exit() {
        // A panic must not unwind into C: it is caught and the hook gives up quietly.
        let _ = std::panic::catch_unwind(|| {
            #[cfg(unix)]
            signals::settle();
            runtime_work(finish)
        });
    }
    // SAFETY: `atexit` is the C standard library's, present on every unix and on Windows; the
    // callback never unwinds (see above).
    unsafe {
        atexit(at_exit);
    }
}

#[cfg(not(any(unix, windows)))]
fn register_at_exit() {}

/// Runs `f`, which starts the runtime's threads, with the signals the runtime may take blocked
/// on the calling thread: the threads it starts inherit that mask, so the kernel never hands a
/// signal to a runtime thread when a program's thread could take it (a program that blocks a
/// signal everywhere to `sigwait` for it gets it exactly as untraced).
pub fn sheltered<R>(cfg: &'static Config, f: impl FnOnce() -> R) -> R {
    #[cfg(unix)]
    {
        signals::sheltered(cfg, f)
    }
    #[cfg(not(unix))]
    {
        let _ = cfg;
        f()
    }
}

#[cfg(unix)]
mod signals {
    //! The runtime's own `sigaction` handler, for the fatal signals (and the dump signal) still
    //! at their default action when tracing starts. It only writes one byte to a pipe: the
    //! signal, and whether a handler of the program's is in front of it. signal-hook-registry
    //! (behind `tokio::signal`, signal-hook's flag and iterator) keeps the OS handler it finds
    //! and calls it before its own actions, so when ours runs but is no longer the installed
    //! one, the program handles the signal: the trace goes on and the exit hook ends it. When
    //! ours is still the installed one, nothing else would have caught the signal: the signal
    //! thread writes everything, then the process dies by the signal as it would untraced.

    use super::*;
    use libc::c_int;
    use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

    const FATAL: [c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];
    /// The crashes: a fault (stack overflow included), an illegal instruction, a division by
    /// zero, `abort()`. They end the process inside the crashing thread's handler, so that
    /// thread waits there, a bounded time, for the signal thread to write the trace, then does
    /// what the signal would have done untraced.
    const CRASH: [c_int; 5] = [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGABRT,
        libc::SIGILL,
        libc::SIGFPE,
    ];
    /// How long a crashing thread waits for the trace to be written, in slices of 100 ms: 5 s.
    const CRASH_WAIT_SLICES: u32 = 50;
    /// The bit of a pipe byte that says a handler of the program's ran ours; the rest is the
    /// signal number (at most 64).
    const HANDLED: u8 = 0x80;

    /// The pipe's write end, non-blocking; -1 until the handler is installed.
    static PIPE: AtomicI32 = AtomicI32::new(-1);
    /// The traced process: a child forked without exec keeps our handler but not the thread
    /// that reads the pipe, which it shares with its parent.
    static PID: AtomicI32 = AtomicI32::new(0);

    /// Signals caught and not yet dealt with by the signal thread: the exit hook waits for
    /// them, so that a program that stops quickly after a signal it handles still shows what
    /// the runtime says about it, before the end of the trace.
    static PENDING: AtomicUsize = AtomicUsize::new(0);

    /// The read end of the pipe the signal thread writes one byte to once the trace is written
    /// after a crash (never read: it stays readable, for every crashing thread); -1 until then.
    static WRITTEN: AtomicI32 = AtomicI32::new(-1);
    /// The write end of that pipe, for the signal thread.
    static WRITTEN_TX: AtomicI32 = AtomicI32::new(-1);
    /// Set by the first crash: a later one (a second thread, std's `abort()` after a stack
    /// overflow) only waits for the same trace.
    static CRASHED: AtomicBool = AtomicBool::new(false);
    /// The action each crash signal had before ours (its handler and flags), to pass it on to:
    /// std's stack-overflow handler for SIGSEGV and SIGBUS, SIG_DFL for the others.
    static PREVIOUS: [AtomicUsize; 32] = [const { AtomicUsize::new(0) }; 32];
    static PREVIOUS_FLAGS: [AtomicI32; 32] = [const { AtomicI32::new(0) }; 32];

    /// Waits, a bounded time, until the signal thread has dealt with every signal caught.
    pub fn settle() {
        let deadline = std::time::Instant::now() + PATIENCE;
        while PENDING.load(Ordering::Acquire) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The signals the runtime takes, or may: the fatal ones and the dump signal.
    fn taken(cfg: &Config) -> Vec<c_int> {
        let mut all = FATAL.to_vec();
        all.extend(cfg.dump_signal);
        all
    }

    pub fn sheltered<R>(cfg: &'static Config, f: impl FnOnce() -> R) -> R {
        // SAFETY: `set` and `old` are valid, owned sigsets; sigemptyset initialises `set`
        // before use; pthread_sigmask changes only the calling thread's mask (put back below).
        let (blocked, old) = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signal in taken(cfg) {
                libc::sigaddset(&mut set, signal);
            }
            (
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) == 0,
                old,
            )
        };
        let out = f();
        if blocked {
            // SAFETY: `old` is the mask pthread_sigmask wrote above: the thread's mask as it was.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
        }
        out
    }

    /// The installed action for `signal`, read without changing it.
    fn current(signal: c_int) -> Option<libc::sigaction> {
        // SAFETY: a null new action only queries (async-signal-safe, POSIX); `cur` is a valid
        // out pointer, fully written on success.
        unsafe {
            let mut cur: libc::sigaction = std::mem::zeroed();
            (libc::sigaction(signal, std::ptr::null(), &mut cur) == 0).then_some(cur)
        }
    }

    fn ours() -> libc::sighandler_t {
        on_signal as extern "C" fn(c_int) as libc::sighandler_t
    }

    /// Runs inside the signal handler: only async-signal-safe calls (sigaction, getpid, write,
    /// raise), no allocation, no lock; errno is left as the interrupted code had it.
    extern "C" fn on_signal(signal: c_int) {
        let _errno = Errno::save();
        // Someone installed a handler after ours and called ours from it: signal-hook-registry
        // does, after which it runs the program's actions.
        let handled = current(signal).is_some_and(|cur| cur.sa_sigaction != ours());
        // SAFETY: getpid is async-signal-safe and cannot fail.
        if unsafe { libc::getpid() } != PID.load(Ordering::Relaxed) {
            // A forked child: there is no signal thread to tell. Do what the signal would have
            // done without the runtime.
            if !handled {
                // SAFETY: sigaction and raise are async-signal-safe; `dfl` is a valid action.
                // The signal is blocked while its handler runs, so the raised one is delivered,
                // to the default action, when this handler returns.
                unsafe {
                    let mut dfl: libc::sigaction = std::mem::zeroed();
                    dfl.sa_sigaction = libc::SIG_DFL;
                    libc::sigaction(signal, &dfl, std::ptr::null_mut());
                    libc::raise(signal);
                }
            }
            return;
        }
        let byte = signal as u8 | if handled { HANDLED } else { 0 };
        // Lock-free on every platform std supports atomics on, so async-signal-safe.
        PENDING.fetch_add(1, Ordering::AcqRel);
        // SAFETY: write is async-signal-safe; the fd is the pipe's write end, open for the
        // process's life, and non-blocking: a full pipe (thousands of signals unread) drops
        // this byte rather than hang the interrupted thread.
        let written =
            unsafe { libc::write(PIPE.load(Ordering::Relaxed), (&byte as *const u8).cast(), 1) };
        if written != 1 {
            PENDING.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// errno, saved on entry to the handler and put back on return.
    struct Errno(c_int);

    impl Errno {
        fn save() -> Errno {
            // SAFETY: the location is the calling thread's errno, always valid.
            Errno(unsafe { errno_location().map_or(0, |p| *p) })
        }
    }

    impl Drop for Errno {
        fn drop(&mut self) {
            // SAFETY: as in `save`.
            unsafe {
                if let Some(p) = errno_location() {
                    *p = self.0;
                }
            }
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android", target_os = "emscripten"))]
    unsafe fn errno_location() -> Option<*mut c_int> {
        Some(libc::__errno_location())
    }

    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "dragonfly"
    ))]
    unsafe fn errno_location() -> Option<*mut c_int> {
        Some(libc::__error())
    }

    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "emscripten",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "dragonfly"
    )))]
    unsafe fn errno_location() -> Option<*mut c_int> {
        None
    }

    /// Whether the signal still has its default action: a program that installed its own
    /// handler before tracing started, or inherited SIG_IGN (nohup), keeps it, untouched.
    fn is_default(signal: c_int) -> bool {
        current(signal).is_some_and(|cur| cur.sa_sigaction == libc::SIG_DFL)
    }

    /// A pipe whose ends close on exec, the write end non-blocking: (read, write).
    fn pipe() -> std::io::Result<(c_int, c_int)> {
        let mut fds = [0 as c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe writes; fcntl on descriptors
        // just created and owned here.
        unsafe {
            if libc::pipe(fds.as_mut_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            for fd in fds {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
            let flags = libc::fcntl(fds[1], libc::F_GETFL);
            libc::fcntl(fds[1], libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        Ok((fds[0], fds[1]))
    }

    pub fn install(cfg: &'static Config) {
        if !cfg.signals {
            return;
        }
        let wanted: Vec<c_int> = taken(cfg).into_iter().filter(|s| is_default(*s)).collect();
        // A crash signal is taken unless ignored: std's stack-overflow handler (SIGSEGV,
        // SIGBUS) or a program's is called after ours, as it would have been alone.
        let crashes: Vec<c_int> = CRASH
            .into_iter()
            .filter(|s| current(*s).is_some_and(|cur| cur.sa_sigaction != libc::SIG_IGN))
            .collect();
        if wanted.is_empty() && crashes.is_empty() {
            return;
        }
        let (read, write) = match pipe() {
            Ok(fds) => fds,
            Err(e) => {
                config::warn(&format!(
                    "cannot watch signals ({e}); Ctrl-C loses the buffered trace"
                ));
                return;
            }
        };
        let dump = cfg.dump_signal;
        let spawned = std::thread::Builder::new()
            .name(format!(
                "{}signals",
                crate::capture::thread::RUNTIME_THREAD_PREFIX
            ))
            .spawn(move || {
                crate::capture::thread::runtime_thread();
                listen(read, dump);
            });
        if let Err(e) = spawned {
            config::warn(&format!(
                "cannot start the signal thread ({e}); Ctrl-C loses the buffered trace"
            ));
            // SAFETY: both descriptors were created above and nothing else holds them.
            unsafe {
                libc::close(read);
                libc::close(write);
            }
            return;
        }
        // SAFETY: getpid cannot fail.
        PID.store(unsafe { libc::getpid() }, Ordering::Relaxed);
        PIPE.store(write, Ordering::Relaxed);
        for signal in wanted {
            take(signal);
        }
        match pipe() {
            Ok((read, write)) => {
                WRITTEN_TX.store(write, Ordering::Relaxed);
                WRITTEN.store(read, Ordering::Release);
                for signal in crashes {
                    take_crash(signal);
                }
            }
            Err(e) => config::warn(&format!(
                "cannot watch crashes ({e}); a crash loses the buffered trace"
            )),
        }
    }

    fn crash_handler() -> libc::sighandler_t {
        on_crash as extern "C" fn(c_int, *mut libc::siginfo_t, *mut libc::c_void)
            as libc::sighandler_t
    }

    /// Installs our crash handler for `signal`, on the alternate signal stack (std sets one up
    /// for every thread it starts: a stack overflow leaves no room on the thread's own), and
    /// keeps the action it replaces to pass the crash on to.
    fn take_crash(signal: c_int) {
        let Some(slot) = usize::try_from(signal).ok().filter(|s| *s < PREVIOUS.len()) else {
            return;
        };
        // SAFETY: `new` is a fully initialised action whose handler has the SA_SIGINFO
        // signature and does only async-signal-safe work; `old` is a valid out pointer. The
        // previous action is stored before ours can run: the stores happen before sigaction
        // returns, and our handler only runs once it has.
        unsafe {
            let Some(old) = current(signal) else { return };
            PREVIOUS[slot].store(old.sa_sigaction, Ordering::Relaxed);
            PREVIOUS_FLAGS[slot].store(old.sa_flags, Ordering::Relaxed);
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = crash_handler();
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
            libc::sigemptyset(&mut new.sa_mask);
            let mut was: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, &new, &mut was) != 0 {
                config::warn(&format!(
                    "cannot take {} ({}); a crash by it loses the buffered trace",
                    signal_name(signal),
                    std::io::Error::last_os_error()
                ));
                return;
            }
            if was.sa_sigaction != old.sa_sigaction {
                // A handler of the program's got there in between: it stays.
                libc::sigaction(signal, &was, std::ptr::null_mut());
            }
        }
    }

    /// Runs inside the crash handler, on the crashing thread, its own stack perhaps exhausted:
    /// only async-signal-safe calls (getpid, sigaction, write, poll, raise), no allocation, no
    /// lock. It tells the signal thread once, waits at most 5 s for the trace to be written,
    /// then passes the crash on to the action it replaced.
    extern "C" fn on_crash(signal: c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
        let errno = Errno::save();
        // A handler of the program's installed after ours called ours on its way: the trace
        // is written all the same (a crash seldom ends well), and the crash goes on to what
        // ours replaced, as the program's handler would have passed it on without the runtime.
        let handled = current(signal).is_some_and(|cur| cur.sa_sigaction != crash_handler());
        // SAFETY: getpid is async-signal-safe and cannot fail. A forked child has no signal
        // thread: it only passes the crash on.
        if unsafe { libc::getpid() } == PID.load(Ordering::Relaxed) {
            if !CRASHED.swap(true, Ordering::AcqRel) {
                let byte = signal as u8;
                PENDING.fetch_add(1, Ordering::AcqRel);
                // SAFETY: as in `on_signal`: the pipe's non-blocking write end, one valid byte.
                unsafe {
                    libc::write(PIPE.load(Ordering::Relaxed), (&byte as *const u8).cast(), 1)
                };
            }
            wait_written();
        }
        release_crashes();
        drop(errno);
        pass_on(signal, info, context, handled);
    }

    /// Puts back, for every crash signal still ours, the action ours replaced, before the
    /// crash is passed on. What passing it on raises next (std's overflow handler calls
    /// `abort()`) then meets the action it would have met untraced, without a second signal
    /// frame on an alternate stack the first one already half filled (a frame holds the
    /// CPU's vector state: 3 KiB and more with AVX-512, in an 8 KiB stack).
    fn release_crashes() {
        for signal in CRASH {
            let slot = signal as usize;
            if current(signal).is_none_or(|cur| cur.sa_sigaction != crash_handler()) {
                continue;
            }
            // SAFETY: sigaction is async-signal-safe; `back` is a fully initialised action
            // holding the handler and flags `take_crash` stored before ours was installed.
            unsafe {
                let mut back: libc::sigaction = std::mem::zeroed();
                back.sa_sigaction = PREVIOUS[slot].load(Ordering::Relaxed);
                back.sa_flags = PREVIOUS_FLAGS[slot].load(Ordering::Relaxed);
                libc::sigemptyset(&mut back.sa_mask);
                libc::sigaction(signal, &back, std::ptr::null_mut());
            }
        }
    }

    /// Waits, at most `CRASH_WAIT_SLICES` x 100 ms, until the signal thread says the trace is
    /// written.
    fn wait_written() {
        let fd = WRITTEN.load(Ordering::Acquire);
        if fd < 0 {
            return;
        }
        let mut ready = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        for _ in 0..CRASH_WAIT_SLICES {
            // SAFETY: poll is async-signal-safe; `ready` is one valid pollfd. An interruption
            // (-1, EINTR) or a timeout only costs a slice.
            if unsafe { libc::poll(&mut ready, 1, 100) } > 0 {
                return;
            }
        }
    }

    /// Does what the crash would have done without our handler: calls the handler we
    /// replaced (std's prints "thread 'main' has overflowed its stack" and aborts; on any other
    /// fault it puts SIG_DFL back and returns); or, if there was none, puts SIG_DFL back and,
    /// for a signal that was sent (`abort()`, `kill`), raises it again. A fault returns to the
    /// faulting instruction, which faults again, now to the default action.
    /// `handled`: a handler of the program's called ours; a default action is then its to
    /// take (its handler, untraced, would have found SIG_DFL behind it and not called it).
    fn pass_on(
        signal: c_int,
        info: *mut libc::siginfo_t,
        context: *mut libc::c_void,
        handled: bool,
    ) {
        let slot = signal as usize;
        let previous = PREVIOUS[slot].load(Ordering::Relaxed);
        let flags = PREVIOUS_FLAGS[slot].load(Ordering::Relaxed);
        if previous == libc::SIG_DFL || previous == libc::SIG_IGN {
            if handled {
                return;
            }
            // SAFETY: sigaction and raise are async-signal-safe; `dfl` is a valid action;
            // `info` is the kernel's siginfo for this signal (SA_SIGINFO). The signal is
            // blocked while its handler runs: the raised one is delivered, to the default
            // action, when this handler returns.
            unsafe {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigemptyset(&mut dfl.sa_mask);
                libc::sigaction(signal, &dfl, std::ptr::null_mut());
                if info.is_null() || (*info).si_code <= 0 {
                    libc::raise(signal);
                }
            }
            return;
        }
        if flags & libc::SA_SIGINFO != 0 {
            // SAFETY: with SA_SIGINFO, the stored handler is a sigaction-style handler: it is
            // called as the kernel would have called it, with the same arguments.
            unsafe {
                let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(previous);
                handler(signal, info, context);
            }
        } else {
            // SAFETY: without SA_SIGINFO, the stored handler is a plain `fn(c_int)` handler.
            unsafe {
                let handler: extern "C" fn(c_int) = std::mem::transmute(previous);
                handler(signal);
            }
        }
    }

    /// Installs our handler for `signal`, unless a handler of the program's got there since
    /// `is_default` looked: that one is put back.
    fn take(signal: c_int) {
        // SAFETY: `new` is a fully initialised action whose handler is an `extern "C" fn(c_int)`
        // (no SA_SIGINFO), async-signal-safe; SA_RESTART so the program's interrupted system
        // calls resume rather than fail with EINTR; `old` is a valid out pointer.
        unsafe {
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = ours();
            new.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut new.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, &new, &mut old) != 0 {
                config::warn(&format!(
                    "cannot take {} ({}); it ends the program without writing the buffered trace",
                    signal_name(signal),
                    std::io::Error::last_os_error()
                ));
                return;
            }
            if old.sa_sigaction != libc::SIG_DFL {
                libc::sigaction(signal, &old, std::ptr::null_mut());
            }
        }
    }

    /// The signal thread: one byte per signal caught, until the pipe fails.
    fn listen(read: c_int, dump: Option<c_int>) {
        loop {
            let mut byte = 0u8;
            // SAFETY: `read` is the pipe's read end, owned by this thread for the process's
            // life; the buffer is one valid, writable byte.
            let n = unsafe { libc::read(read, (&mut byte as *mut u8).cast(), 1) };
            if n != 1 {
                if n < 0
                    && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                {
                    continue;
                }
                return;
            }
            let signal = c_int::from(byte & !HANDLED);
            if CRASH.contains(&signal) {
                // Everything the threads recorded up to the crash, the crashing thread's
                // records in the chunk it was filling included (published record by record),
                // and the open-frames report; then the crashing thread goes on to die.
                finish();
                let done = 1u8;
                // SAFETY: the pipe's write end, open for the process's life; one valid byte.
                unsafe {
                    libc::write(
                        WRITTEN_TX.load(Ordering::Relaxed),
                        (&done as *const u8).cast(),
                        1,
                    )
                };
            } else if Some(signal) == dump {
                dump_open_frames();
            } else if byte & HANDLED != 0 {
                goes_on(signal);
            } else {
                finish();
                die_by(signal);
            }
            PENDING.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The program handles the signal: what was captured up to now is written (in case its
    /// handler ends the process without running the exit hook), with a line that says this
    /// is not the end. The exit hook writes the rest and the open-frames report.
    fn goes_on(signal: c_int) {
        collector::with_flushed(PATIENCE, |_| ());
        let line = format!(
            "trace-runtime: {} received; the program handles it, so it runs on and the trace goes on (it ends when the program exits)\n",
            signal_name(signal)
        );
        use std::io::Write;
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    /// Ends the process by `signal`, as it would have ended untraced: default action back,
    /// the signal unblocked on this thread (the runtime's threads block it), raised.
    fn die_by(signal: c_int) -> ! {
        // SAFETY: `dfl` and `set` are fully initialised; sigaction and pthread_sigmask only
        // change the disposition of `signal` and this thread's mask, both meant to change here.
        // A terminating signal at its default action ends the process when raised; `_exit`
        // (with the shell's code for that signal) is only reached if it somehow did not.
        unsafe {
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut dfl.sa_mask);
            libc::sigaction(signal, &dfl, std::ptr::null_mut());
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(signal);
            libc::_exit(128 + signal)
        }
    }

    fn signal_name(signal: c_int) -> String {
        match signal {
            libc::SIGINT => "SIGINT".into(),
            libc::SIGTERM => "SIGTERM".into(),
            libc::SIGHUP => "SIGHUP".into(),
            libc::SIGUSR1 => "SIGUSR1".into(),
            libc::SIGUSR2 => "SIGUSR2".into(),
            libc::SIGSEGV => "SIGSEGV".into(),
            libc::SIGBUS => "SIGBUS".into(),
            libc::SIGABRT => "SIGABRT".into(),
            n => format!("signal {n}"),
        }
    }

    /// Every open frame of every thread and task, with its chain and how long it has been open,
    /// on stderr; the program runs on.
    fn dump_open_frames() {
        let text = collector::with_flushed(PATIENCE, |c| {
            let listed = c.with_frames(|frames, tables, now| {
                crate::view::open::report("open frames", frames, tables, now)
            });
            match listed {
                Ok(text) if text.is_empty() => "open frames: none\n".to_string(),
                Ok(text) => text,
                Err(why) => format!("{}open frames: {why}\n", crate::config::PREFIX),
            }
        });
        if let Some(text) = text {
            use std::io::Write;
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
}
