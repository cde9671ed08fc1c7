//! Processes: green threads on the VM's one OS thread, scheduled as
//! Pharo's VM schedules them.
//!
//! Each Process has its own execution state (a [`Process`]: value stack,
//! frames, handlers, unwinds). The running one is `Vm::process`; the
//! others wait here, each with the instruction it goes on at. The
//! Smalltalk side is Pharo's: the global `Processor` (a
//! ProcessorScheduler) with a ready queue per priority, Semaphores that are
//! lists of waiting Processes, and the primitives (`signal`, `wait`,
//! `resume`, `suspend`, `yield`, `terminate`...) that move Processes
//! between those lists (see `lists`).
//!
//! Switching happens only in the loop of the outermost computation
//! ([`Vm::run_scheduled`]), never inside a handler or machine code: a
//! primitive that stops the running Process records a [`Request`] and
//! answers a null instruction, which every handler and every level of
//! machine code hands straight back (as it does the end of a
//! computation). So no Rust frame holds on to a Process's stacks when
//! they are swapped. Computations nested inside a primitive (a class's
//! `initialize` run while a class is defined) do not switch: waiting there
//! fails, and preemption waits until they are over.
//!
//! A higher-priority Process made ready by a Semaphore's signal or by
//! `resume` runs at once; one made ready by a timed signal (a Delay) at
//! the next activation or loop back-edge (see `timer`). When nothing can
//! run, the VM sleeps until the next timed signal; with none pending while
//! the computation's own Process waits, it ends with a deadlock error and
//! the stacks of the waiting Processes. When the computation's Process is
//! done, the other ready Processes run until none is ready (as Pharo's UI
//! process lets them run when it idles); Processes still waiting then are
//! left waiting.

mod lists;
mod timer;

use std::time::{Duration, Instant};

use super::interpreter::{self, code_address_oop, Ip};
use super::process::Process;
use super::stack::{INTERRUPTED, LOW_SPACE, TIMER};
use super::unwind::Action;
use super::{ErrorKind, Vm, VmError};
use crate::memory::{self, class_index_of};
use crate::object::Oop;
pub(crate) use lists::{Slots, HIGHEST_PRIORITY};
pub(crate) use timer::Timed;
use timer::Timer;

/// Why the running Process's code stopped with a null instruction.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Request {
    /// It gives up the processor (it waits, yields, is suspended or
    /// preempted) and goes on at `resume` when scheduled again; the next
    /// to run is `to` when given, else the first ready at the highest
    /// priority.
    Switch { resume: Ip, to: Option<Oop> },
    /// It has ended (terminated).
    Ended,
}

/// What a waiting Process must do first when it runs again.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pending {
    Nothing,
    /// Unwind its whole stack (running `ensure:` blocks) and end.
    Terminate,
    /// Signal this exception where it stopped (`signalException:`).
    Signal(Oop),
}

/// A Process that is not running: its state and where it goes on.
struct Saved {
    process: Box<Process>,
    ip: Ip,
    /// It has not started: its block (`suspendedContext`) is still to be
    /// evaluated.
    start: bool,
}

/// A Process the VM knows, by handle (the Process's `vmHandle`).
struct Entry {
    /// The Process object (nil: a free handle).
    owner: Oop,
    /// Its state while it does not run (None while it runs).
    saved: Option<Saved>,
    pending: Pending,
    /// The Process that terminates this one and waits for it to end.
    terminator: Option<Oop>,
}

#[derive(Default)]
pub struct Scheduler {
    entries: Vec<Entry>,
    free: Vec<usize>,
    pub(crate) request: Option<Request>,
    /// Timed signals, by deadline.
    timed: Vec<(Instant, Timed)>,
    /// Computations from Rust in progress (only the outermost switches).
    depth: usize,
    /// The entries of the Processes whose computations Rust waits for.
    origins: Vec<usize>,
    /// The Semaphore signalled after a collection fired ephemerons
    /// (`primitiveSetFinalizationSemaphore`).
    pub(crate) finalization_semaphore: Option<Oop>,
    timer: Option<Timer>,
    pub(crate) slots: Option<Slots>,
}

/// How long the idle VM sleeps at most before it looks at its alarm (a
/// signal such as SIGINT).
const IDLE_SLICE: Duration = Duration::from_millis(20);

impl Scheduler {
    /// The objects it holds (GC roots), and the stacks of the Processes
    /// that are not running.
    pub fn visit_roots(&mut self, visit: &mut dyn FnMut(&mut Oop)) {
        for e in &mut self.entries {
            Self::visit_entry(e, visit);
        }
        self.visit_own_roots(visit);
    }

    /// The roots of a collection of old space, but for the Processes it
    /// may reclaim ([`Scheduler::collectable`]): those are roots only once
    /// their Process object is reached ([`Scheduler::roots_of_reached`]).
    pub fn visit_roots_but_collectable(&mut self, visit: &mut dyn FnMut(&mut Oop)) {
        for h in 0..self.entries.len() {
            if !self.collectable(h) {
                Self::visit_entry(&mut self.entries[h], visit);
            }
        }
        self.visit_own_roots(visit);
    }

    /// The roots that are the scheduler's own: the timed signals and the
    /// finalization Semaphore.
    fn visit_own_roots(&mut self, visit: &mut dyn FnMut(&mut Oop)) {
        for (_, t) in &mut self.timed {
            t.roots().for_each(&mut *visit);
        }
        if let Some(semaphore) = &mut self.finalization_semaphore {
            visit(semaphore);
        }
    }

    /// Whether entry `h`'s Process may be reclaimed when nothing refers to
    /// its Process object: it does not run, it is no computation's own,
    /// and nothing is pending for it (termination, a signal).
    fn collectable(&self, h: usize) -> bool {
        let e = &self.entries[h];
        e.saved.is_some()
            && matches!(e.pending, Pending::Nothing)
            && e.terminator.is_none()
            && !self.origins.contains(&h)
    }

    /// The roots of the collectable Processes whose Process objects were
    /// reached (`reached`) and were not yet visited (`visited`, by entry).
    pub fn roots_of_reached(
        &mut self,
        reached: &dyn Fn(Oop) -> bool,
        visited: &mut Vec<bool>,
    ) -> Vec<Oop> {
        visited.resize(self.entries.len(), false);
        let mut roots = Vec::new();
        let reachable: Vec<usize> = (0..self.entries.len())
            .filter(|&h| !visited[h] && self.collectable(h) && reached(self.entries[h].owner))
            .collect();
        for h in reachable {
            visited[h] = true;
            Self::visit_entry(&mut self.entries[h], &mut |r| roots.push(*r));
        }
        roots
    }

    /// Frees the entries of the collectable Processes a collection did not
    /// reach (`visited` as [`Scheduler::roots_of_reached`] left it): their
    /// Process objects are garbage, and so are their stacks.
    pub fn forget_unreached(&mut self, visited: &[bool], nil: Oop) {
        for h in 0..self.entries.len() {
            if self.collectable(h) && !visited.get(h).copied().unwrap_or(false) {
                let e = &mut self.entries[h];
                e.owner = nil;
                e.saved = None;
                self.free.push(h);
            }
        }
    }

    fn visit_entry(e: &mut Entry, visit: &mut dyn FnMut(&mut Oop)) {
        visit(&mut e.owner);
        if let Some(s) = &mut e.saved {
            s.process.visit_roots(visit);
        }
        if let Pending::Signal(x) = &mut e.pending {
            visit(x);
        }
        if let Some(t) = &mut e.terminator {
            visit(t);
        }
    }

    /// The execution states of the Processes that are not running.
    pub(crate) fn waiting_processes(&self) -> impl Iterator<Item = &Process> {
        self.entries
            .iter()
            .filter_map(|e| e.saved.as_ref().map(|s| &*s.process))
    }

    /// The execution state of the Process of entry `entry`, if it does
    /// not run.
    pub(crate) fn saved_process(&self, entry: usize) -> Option<&Process> {
        self.entries.get(entry)?.saved.as_ref().map(|s| &*s.process)
    }

    /// Where activation `id` is among the Processes that do not run: the
    /// entry and the index of the frame.
    pub(crate) fn find_saved_activation(&self, id: u64) -> Option<(usize, usize)> {
        self.entries.iter().enumerate().find_map(|(entry, e)| {
            let saved = e.saved.as_ref()?;
            Some((entry, saved.process.frame_index(id)?))
        })
    }

    /// Whether the running code may give up the processor now.
    pub(crate) fn can_switch(&self) -> bool {
        self.depth == 1
    }
}

/// What the scheduling loop does next.
enum Next {
    Run(Ip),
    Done(Result<Oop, VmError>),
}

/// What becomes of the Process that stops running.
#[derive(Clone, Copy)]
enum Outgoing {
    /// It goes on at this instruction later.
    Keep(Ip),
    /// It has ended: its state goes.
    Discard,
}

impl Vm {
    /// Runs a computation from Rust to its end: the outermost one
    /// schedules Processes (see the module's documentation).
    pub(crate) fn run_scheduled(&mut self, ip: Ip) -> Result<Oop, VmError> {
        self.scheduler.depth += 1;
        let result = match self.scheduling_slots() {
            Some(s) if self.scheduler.depth == 1 => {
                self.timer_alarm(true);
                let result = self.run_processes(ip, &s);
                self.timer_alarm(false);
                result
            }
            _ => interpreter::run(self, ip),
        };
        self.scheduler.depth -= 1;
        result
    }

    fn run_processes(&mut self, ip: Ip, s: &Slots) -> Result<Oop, VmError> {
        let Some(origin) = self.active_process(s) else {
            return interpreter::run(self, ip);
        };
        let origin = self.handle(origin, s);
        // The computation's own Process is never collected: Rust waits for
        // it.
        self.scheduler.origins.push(origin);
        let result = self.run_processes_from(origin, ip, s);
        self.scheduler.origins.pop();
        result
    }

    fn run_processes_from(&mut self, origin: usize, ip: Ip, s: &Slots) -> Result<Oop, VmError> {
        let mut finished = false;
        let mut ip = ip;
        loop {
            interpreter::run_to_stop(self, ip);
            if let Some(error) = self.process.error.take() {
                self.back_to_origin(origin, Outgoing::Discard, s);
                return Err(error);
            }
            // (The running state is the origin's unless the origin's is
            // kept aside.)
            let origin_runs = self.scheduler.entries[origin].saved.is_none();
            let next = match self.scheduler.request.take() {
                Some(Request::Switch { resume, to }) => {
                    self.reschedule(Outgoing::Keep(resume), to, origin, finished, s)
                }
                Some(Request::Ended) | None if !origin_runs => {
                    if let Some(p) = self.active_process(s) {
                        self.mark_terminated(p, s);
                    }
                    self.reschedule(Outgoing::Discard, None, origin, finished, s)
                }
                request => {
                    // The computation's own Process is done (terminated:
                    // it answers nil).
                    if matches!(request, Some(Request::Ended)) {
                        self.process.result = self.universe.nil;
                    }
                    finished = true;
                    self.reschedule(Outgoing::Keep(std::ptr::null()), None, origin, true, s)
                }
            };
            match next {
                Next::Run(next) => ip = next,
                Next::Done(result) => return result,
            }
        }
    }

    /// The running Process stops (`out`): runs `to`, or the first ready
    /// Process of the highest priority; when none is ready, waits for the
    /// next timed signal, or ends the computation (its Process done: its
    /// result; waiting: a deadlock).
    fn reschedule(
        &mut self,
        out: Outgoing,
        to: Option<Oop>,
        origin: usize,
        finished: bool,
        s: &Slots,
    ) -> Next {
        let mut to = to;
        loop {
            let next = to.take().or_else(|| self.take_ready(s));
            let Some(p) = next else {
                if !finished && !self.scheduler.timed.is_empty() {
                    if self.idle_until_due(s) {
                        continue;
                    }
                    return Next::Done(Err(self.interrupted_while_idle(origin, out, s)));
                }
                if finished {
                    self.back_to_origin(origin, out, s);
                    return Next::Done(Ok(self.process.result));
                }
                return Next::Done(Err(self.deadlock(origin, out, s)));
            };
            let active = self.active_process(s);
            if Some(p) == active {
                if let Outgoing::Keep(resume) = out {
                    return Next::Run(resume);
                }
                continue;
            }
            if let Some(ip) = self.switch_to(p, out, s) {
                return Next::Run(ip);
            }
        }
    }

    /// Takes the first ready Process of the highest priority off its
    /// queue.
    fn take_ready(&mut self, s: &Slots) -> Option<Oop> {
        let priority = self.highest_ready_priority(s)?;
        let list = self.ready_list(priority, s)?;
        self.remove_first_link(list, s)
    }

    /// Makes `p` the running Process, the running one stopping as `out`.
    /// None when `p` cannot run (it has ended, or has no block to start).
    fn switch_to(&mut self, p: Oop, out: Outgoing, s: &Slots) -> Option<Ip> {
        let incoming = self.handle(p, s);
        let saved = match self.scheduler.entries[incoming].saved.take() {
            Some(saved) => saved,
            None => {
                let block = memory::slot(p, s.suspended_context)?;
                if class_index_of(block) != super::classes::BLOCK_CLOSURE || block.is_immediate() {
                    self.mark_terminated(p, s);
                    return None;
                }
                Saved {
                    process: Box::new(Process::new(self.universe.nil)),
                    ip: std::ptr::null(),
                    start: true,
                }
            }
        };
        let outgoing = self.active_process(s).map(|a| self.handle(a, s));
        let Saved {
            mut process,
            ip,
            start,
        } = saved;
        std::mem::swap(&mut self.process, &mut process);
        // The VM's alarms (a signal, low space, the timer) are not the
        // Process's.
        for bit in [INTERRUPTED, LOW_SPACE, TIMER] {
            if process.stack.alarm.has(bit) {
                process.stack.alarm.clear(bit);
                self.process.stack.alarm.raise(bit);
            }
        }
        match (out, outgoing) {
            (Outgoing::Keep(resume), Some(h)) => {
                self.scheduler.entries[h].saved = Some(Saved {
                    process,
                    ip: resume,
                    start: false,
                });
            }
            (_, h) => {
                drop(process);
                if let Some(h) = h {
                    self.free_handle(h);
                }
            }
        }
        if let Some(processor) = self.processor(s) {
            self.store(processor, s.active_process, p);
        }
        self.store(p, s.my_list, self.universe.nil);
        let mut ip = ip;
        if start {
            let block = memory::slot(p, s.suspended_context).unwrap_or(self.universe.nil);
            self.process.stack.push(block);
            ip = match super::primitives::blocks::value(self, 0, std::ptr::null()) {
                super::primitives::Prim::Continue(ip) => ip,
                _ => self.fail("a Process's block must take no arguments"),
            };
        }
        let pending = std::mem::replace(
            &mut self.scheduler.entries[incoming].pending,
            Pending::Nothing,
        );
        Some(match pending {
            Pending::Nothing => ip,
            Pending::Terminate => self.terminate_active(),
            Pending::Signal(exception) => self.signal_before(exception, ip),
        })
    }

    /// Starts ending the running Process: unwinds its whole stack, its
    /// `ensure:` blocks running on the way; answers where to go on.
    pub(crate) fn terminate_active(&mut self) -> Ip {
        if self.process.frames.is_empty() {
            self.scheduler.request = Some(Request::Ended);
            return std::ptr::null();
        }
        let bottom = self.process.frame_ref(0);
        self.unwind(bottom, Action::Terminate)
    }

    /// Signals `exception` in the running Process before `ip` runs (and
    /// goes on at `ip` if it is resumed).
    fn signal_before(&mut self, exception: Oop, ip: Ip) -> Ip {
        if ip.is_null() || self.process.frames.is_empty() {
            return ip;
        }
        self.process.stack.push(code_address_oop(ip));
        self.process.stack.push(self.process.sent_selector);
        self.process.stack.push(exception);
        let signal = self.intern("signal");
        let continuation = self.universe.continuations.resume_after_interrupt();
        self.send_selector(signal, 0, continuation, None, None)
    }

    /// `p` will never run again: no stack, no block, on no list; its
    /// terminator (if one waits for it) is ready again, first in line.
    pub(crate) fn mark_terminated(&mut self, p: Oop, s: &Slots) {
        let nil = self.universe.nil;
        self.unlink(p, s);
        self.store(p, s.suspended_context, nil);
        if let Some(h) = self.handle_of(p, s) {
            let entry = &mut self.scheduler.entries[h];
            entry.saved = None;
            entry.pending = Pending::Nothing;
            if let Some(t) = entry.terminator.take() {
                if self.handle_of(t, s).is_some() && !self.is_terminated(t, s) {
                    self.make_ready(t, true, s);
                }
            }
            // The running Process's handle goes when its state does.
            if self.active_process(s) != Some(p) {
                self.free_handle(h);
            }
        }
    }

    /// Whether `p` has ended (or never had anything to run).
    pub(crate) fn is_terminated(&self, p: Oop, s: &Slots) -> bool {
        if self.active_process(s) == Some(p) {
            return false;
        }
        if let Some(h) = self.handle_of(p, s) {
            if self.scheduler.entries[h].saved.is_some() {
                return false;
            }
        }
        let block = memory::slot(p, s.suspended_context).unwrap_or(self.universe.nil);
        block.is_immediate() || class_index_of(block) != super::classes::BLOCK_CLOSURE
    }

    /// Ends a computation that cannot go on (an error, a deadlock): its own
    /// Process runs again, taken off any list it waits on; the running one
    /// stops as `out`.
    fn back_to_origin(&mut self, origin: usize, out: Outgoing, s: &Slots) {
        if self.scheduler.entries[origin].saved.is_some() {
            if let Outgoing::Discard = out {
                if let Some(p) = self.active_process(s) {
                    self.mark_terminated(p, s);
                }
            }
            let owner = self.scheduler.entries[origin].owner;
            self.switch_to(owner, out, s);
            // (Its computation is over: what it was to do goes.)
            self.scheduler.request = None;
        }
        if let Some(p) = self.active_process(s) {
            self.unlink(p, s);
        }
    }

    /// The error of a computation whose Process waits while no Process can
    /// run and no timed signal is pending: the stacks of every waiting
    /// Process.
    fn deadlock(&mut self, origin: usize, out: Outgoing, s: &Slots) -> VmError {
        let mut trace = Vec::new();
        let current = self.active_process(s);
        let mut describe = |vm: &Vm, p: Oop, process: &Process| {
            let list = memory::slot(p, s.my_list).unwrap_or(vm.universe.nil);
            let on = if list == vm.universe.nil {
                "suspended".to_string()
            } else {
                format!("waiting on {}", vm.describe(list))
            };
            trace.push(format!(
                "--- {} (priority {}), {on}:",
                vm.describe(p),
                vm.priority_of(p, s)
            ));
            trace.extend(vm.trace(process).into_iter().map(|f| format!("  {f}")));
        };
        if let Some(p) = current {
            describe(self, p, &self.process);
        }
        for e in &self.scheduler.entries {
            if let Some(saved) = &e.saved {
                if !saved.start {
                    describe(self, e.owner, &saved.process);
                }
            }
        }
        self.back_to_origin(origin, out, s);
        VmError {
            message: "deadlock: every Process waits, and no Delay is pending to wake one".into(),
            trace,
            kind: ErrorKind::Vm,
        }
    }

    // ----- handles ------------------------------------------------------------

    /// The handle of `p`, if the VM has one for it.
    /// The entry of the Process object `p` when it has started and does
    /// not run (it waits, is ready or suspended), its stack kept aside.
    pub(crate) fn stopped_process_entry(&mut self, p: Oop) -> Option<usize> {
        let s = self.scheduling_slots()?;
        self.stopped_entry(p, &s)
    }

    fn stopped_entry(&self, p: Oop, s: &Slots) -> Option<usize> {
        let h = self.handle_of(p, s)?;
        let saved = self.scheduler.entries[h].saved.as_ref()?;
        (!saved.start).then_some(h)
    }

    fn handle_of(&self, p: Oop, s: &Slots) -> Option<usize> {
        let h = memory::slot(p, s.vm_handle)?.as_small_integer()?;
        let h = usize::try_from(h).ok()?;
        (self.scheduler.entries.get(h)?.owner == p).then_some(h)
    }

    /// The handle of `p`, made when it has none.
    fn handle(&mut self, p: Oop, s: &Slots) -> usize {
        if let Some(h) = self.handle_of(p, s) {
            return h;
        }
        let entry = Entry {
            owner: p,
            saved: None,
            pending: Pending::Nothing,
            terminator: None,
        };
        let h = match self.scheduler.free.pop() {
            Some(h) => {
                self.scheduler.entries[h] = entry;
                h
            }
            None => {
                self.scheduler.entries.push(entry);
                self.scheduler.entries.len() - 1
            }
        };
        self.store(p, s.vm_handle, Oop::small_integer(h as i64).expect("small"));
        h
    }

    fn free_handle(&mut self, h: usize) {
        let owner = std::mem::replace(&mut self.scheduler.entries[h].owner, self.universe.nil);
        if let Some(s) = self.scheduler.slots {
            self.store(owner, s.vm_handle, self.universe.nil);
        }
        let e = &mut self.scheduler.entries[h];
        e.saved = None;
        e.pending = Pending::Nothing;
        e.terminator = None;
        self.scheduler.free.push(h);
    }

    /// The waiting Process `p`'s saved state.
    fn saved_state(&mut self, p: Oop, s: &Slots) -> Option<&mut Process> {
        let h = self.stopped_entry(p, s)?;
        self.scheduler.entries[h]
            .saved
            .as_mut()
            .map(|saved| &mut *saved.process)
    }

    // ----- moving Processes ---------------------------------------------------

    /// Puts `p` on the ready queue of its priority (at its end, or first
    /// in line).
    pub(crate) fn make_ready(&mut self, p: Oop, first: bool, s: &Slots) {
        let priority = self.priority_of(p, s);
        if let Some(list) = self.ready_list(priority, s) {
            self.add_link(list, p, first, s);
        }
    }

    /// `p` was made ready: when it has a higher priority than the running
    /// Process and switching is possible, the running one is preempted
    /// (first in line at its priority, as Pharo's VM does) and goes on at
    /// `resume`: answers true, the caller then answers a null instruction.
    pub(crate) fn preempt_for(&mut self, p: Oop, resume: Ip, s: &Slots) -> bool {
        let Some(active) = self.active_process(s) else {
            return false;
        };
        if !self.scheduler.can_switch()
            || resume.is_null()
            || self.priority_of(p, s) <= self.priority_of(active, s)
        {
            return false;
        }
        self.make_ready(active, true, s);
        self.scheduler.request = Some(Request::Switch { resume, to: None });
        true
    }

    /// Signals `semaphore`: the first Process waiting on it is made ready
    /// (and answered), else the signal is kept.
    pub(crate) fn signal_semaphore(&mut self, semaphore: Oop, s: &Slots) -> Option<Oop> {
        match self.remove_first_link(semaphore, s) {
            Some(p) => {
                self.cancel_timeouts_of(p);
                self.make_ready(p, false, s);
                Some(p)
            }
            None => {
                let excess = memory::slot(semaphore, s.excess_signals)
                    .and_then(Oop::as_small_integer)
                    .unwrap_or(0);
                let more = Oop::small_integer(excess.saturating_add(1).min(Oop::SMALL_INTEGER_MAX))
                    .expect("in range");
                self.store(semaphore, s.excess_signals, more);
                None
            }
        }
    }

    /// The process `p` waits in a `terminate` from another Process: when
    /// it waits inside `critical:` on the Semaphore it was taken off (the
    /// wait not over), it leaves without signalling it, as Pharo's
    /// `Semaphore>>handleProcessTerminationOfWaitingContext:` has it: its
    /// frames above `critical:` go without running their `ensure:` blocks.
    pub(crate) fn leave_critical_wait(&mut self, p: Oop, list: Oop, s: &Slots) {
        if !self.is_semaphore(list, s) {
            return;
        }
        let critical = self.intern("critical:");
        let Some(process) = self.saved_state(p, s) else {
            return;
        };
        let Some(top) = process.frames.last().copied() else {
            return;
        };
        let Some(home) = process.frame_at(top.home) else {
            return;
        };
        let method = &self.universe.methods[top.method as usize];
        let in_critical = top.unit > 0
            && method.selector == critical
            && self
                .universe
                .classes
                .inherits_from(method.class, s.semaphore);
        if in_critical {
            let process = self.saved_state(p, s).expect("checked above");
            process.frames.truncate(home + 1);
            process.sync_base();
        }
    }

    /// Arranges for `p` (not running) to end: it unwinds when it runs
    /// next, which is at once, the running Process (the terminator) waiting
    /// until it has ended. False when `p` has no stack (it ended, or never
    /// started: then it is simply marked terminated).
    pub(crate) fn terminate_other(&mut self, p: Oop, s: &Slots) -> bool {
        let list = self.unlink(p, s);
        let Some(h) = self.handle_of(p, s).filter(|&h| {
            self.scheduler.entries[h]
                .saved
                .as_ref()
                .is_some_and(|saved| !saved.start)
        }) else {
            self.mark_terminated(p, s);
            return false;
        };
        if let Some(list) = list {
            self.leave_critical_wait(p, list, s);
        }
        let halfway = self.finish_unwind_block_first(p, s);
        let terminator = self.active_process(s);
        let entry = &mut self.scheduler.entries[h];
        entry.pending = if halfway {
            Pending::Nothing
        } else {
            Pending::Terminate
        };
        entry.terminator = terminator;
        true
    }

    /// When the waiting Process `p` is inside an `ensure:` or
    /// `ifCurtailed:` block that has started (its frame's `complete` is
    /// set), that block is let finish before `p` ends, as Pharo's
    /// `terminate` from another Process does: the outermost such block
    /// returns to [`terminate_after_block`] instead of its caller. Answers
    /// whether there was one (`p` then goes on where it stopped).
    fn finish_unwind_block_first(&mut self, p: Oop, s: &Slots) -> bool {
        let nil = self.universe.nil;
        let continuation = self.universe.continuations.terminate_after_block();
        let Some(h) = self.handle_of(p, s) else {
            return false;
        };
        let Vm {
            universe,
            scheduler,
            ..
        } = self;
        let methods = &universe.methods;
        let Some(process) = scheduler.entries[h]
            .saved
            .as_mut()
            .filter(|saved| !saved.start)
            .map(|saved| &mut *saved.process)
        else {
            return false;
        };
        let started = (0..process.frames.len().saturating_sub(1)).find(|&i| {
            let f = process.frames[i];
            let m = &methods[f.method as usize];
            f.unit == 0
                && m.has_primitive(super::primitives::ENSURE_MARKER)
                && process
                    .stack
                    .get(f.base + 1 + m.units[0].num_args as usize)
                    .is_some_and(|complete| *complete != nil)
        });
        match started {
            Some(i) => {
                process.frames[i + 1].return_ip = continuation;
                true
            }
            None => false,
        }
    }

    /// Arranges for `exception` to be signalled in `p` (not running) when
    /// it runs next; a waiting `p` stops waiting and is ready. False when
    /// `p` has ended.
    pub(crate) fn signal_in(&mut self, p: Oop, exception: Oop, s: &Slots) -> bool {
        if self.is_terminated(p, s) {
            return false;
        }
        let h = self.handle(p, s);
        self.scheduler.entries[h].pending = Pending::Signal(exception);
        if let Some(list) = self.unlink(p, s) {
            if !self.is_ready_list(list, s) {
                self.cancel_timeouts_of(p);
            }
            self.make_ready(p, false, s);
        }
        true
    }

    // ----- timed signals ----------------------------------------------------------

    /// Adds a timed signal `milliseconds` from now.
    pub(crate) fn add_timed(&mut self, milliseconds: u64, timed: Timed) {
        let deadline = Instant::now() + Duration::from_millis(milliseconds);
        self.scheduler.timed.push((deadline, timed));
        self.arm_timer();
    }

    /// Signals `semaphore` at the next safepoint (activation or loop
    /// back-edge), as a timed signal already due: for a collection, which
    /// must not switch Processes itself (it fired ephemerons).
    pub(crate) fn signal_at_next_safepoint(&mut self, semaphore: Oop) {
        self.scheduler
            .timed
            .push((Instant::now(), Timed::Signal(semaphore)));
        self.process.stack.alarm.raise(TIMER);
    }

    /// Forgets the timed signals of `semaphore` (a Delay unscheduled).
    pub(crate) fn cancel_timed_signals(&mut self, semaphore: Oop) {
        self.scheduler
            .timed
            .retain(|(_, t)| !matches!(t, Timed::Signal(x) if *x == semaphore));
        self.arm_timer();
    }

    fn cancel_timeouts_of(&mut self, p: Oop) {
        let before = self.scheduler.timed.len();
        self.scheduler
            .timed
            .retain(|(_, t)| !matches!(t, Timed::Timeout { process, .. } if *process == p));
        if self.scheduler.timed.len() != before {
            self.arm_timer();
        }
    }

    /// Tells the timer thread the earliest deadline (starting it the first
    /// time).
    fn arm_timer(&mut self) {
        let earliest = self.scheduler.timed.iter().map(|(d, _)| *d).min();
        if earliest.is_some() && self.scheduler.timer.is_none() {
            let timer = Timer::start();
            if self.scheduler.depth > 0 {
                timer.set_alarm(&self.process.stack.alarm);
            }
            self.scheduler.timer = Some(timer);
        }
        if let Some(t) = &self.scheduler.timer {
            t.set_deadline(earliest);
        }
    }

    /// The timer thread may raise the running Process's alarm (while
    /// Smalltalk code runs) or not.
    fn timer_alarm(&mut self, running: bool) {
        if let Some(t) = &self.scheduler.timer {
            t.set_alarm(if running {
                &self.process.stack.alarm
            } else {
                std::ptr::null()
            });
        }
        if running {
            self.arm_timer();
        }
    }

    /// Fires the timed signals that are due.
    fn fire_due(&mut self, s: &Slots) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.scheduler.timed)
            .into_iter()
            .partition(|(d, _)| *d <= now);
        self.scheduler.timed = later;
        let mut due = due;
        due.sort_by_key(|(d, _)| *d);
        for (_, t) in due {
            match t {
                Timed::Signal(semaphore) => {
                    if self.is_semaphore(semaphore, s) {
                        self.signal_semaphore(semaphore, s);
                    }
                }
                Timed::Timeout { semaphore, process } => {
                    if memory::slot(process, s.my_list) == Some(semaphore) {
                        self.unlink(process, s);
                        // The wait answers true: the value on top of
                        // the Process's stack (its own, when it is the
                        // one running, waiting while the VM idles).
                        let yes = self.universe.true_object;
                        let state = if self.active_process(s) == Some(process) {
                            Some(&mut self.process)
                        } else {
                            self.saved_state(process, s)
                        };
                        if let Some(top) = state.and_then(|state| state.stack.last_mut()) {
                            *top = yes;
                        }
                        self.make_ready(process, false, s);
                    }
                }
            }
        }
        self.arm_timer();
    }

    /// Nothing can run: sleeps until the next timed signal is due and
    /// fires it (looking at the alarm now and then: a signal such as
    /// SIGINT ends the program as usual). Answers false when the REPL's
    /// Ctrl-C interrupted the wait instead.
    fn idle_until_due(&mut self, s: &Slots) -> bool {
        let Some(deadline) = self.scheduler.timed.iter().map(|(d, _)| *d).min() else {
            return true;
        };
        loop {
            if self.process.stack.alarm.has(INTERRUPTED) && self.take_interrupt() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            std::thread::sleep((deadline - now).min(IDLE_SLICE));
        }
        self.process.stack.alarm.clear(TIMER);
        self.fire_due(s);
        true
    }

    /// The error of a computation interrupted by the REPL's Ctrl-C while
    /// every Process waited: the stack of the one that ran it.
    fn interrupted_while_idle(&mut self, origin: usize, out: Outgoing, s: &Slots) -> VmError {
        let trace = self.trace(&self.process);
        self.back_to_origin(origin, out, s);
        VmError {
            message: "UserInterrupt: User interrupt (Ctrl-C) while every Process waited".into(),
            trace,
            kind: ErrorKind::Unhandled,
        }
    }

    /// The timer rang (the alarm's [`TIMER`] bit), seen by an activation
    /// or a loop back-edge about to run `continuation`: fires what is due;
    /// a Process it made ready that has a higher priority preempts the
    /// running one. Answers where to go on (null: switch).
    #[cold]
    #[inline(never)]
    pub(crate) fn timer_rang(&mut self, continuation: Ip) -> Ip {
        self.process.stack.alarm.clear(TIMER);
        let Some(s) = self.scheduler.slots else {
            return continuation;
        };
        self.fire_due(&s);
        let (Some(active), Some(top)) = (self.active_process(&s), self.highest_ready_priority(&s))
        else {
            return continuation;
        };
        if top <= self.priority_of(active, &s) {
            return continuation;
        }
        if !self.scheduler.can_switch() {
            // Inside a nested computation: the preemption waits until the
            // next safepoint after it.
            self.process.stack.alarm.raise(TIMER);
            return continuation;
        }
        self.make_ready(active, true, &s);
        self.scheduler.request = Some(Request::Switch {
            resume: continuation,
            to: None,
        });
        std::ptr::null()
    }
}

/// An `ensure:` block that a `terminate` from another Process let finish
/// has returned: the Process ends now, the rest of its stack unwinding.
pub(crate) extern "C-unwind" fn terminate_after_block(vm: &mut Vm, _ip: Ip) -> Ip {
    vm.process.stack.pop();
    vm.terminate_active()
}
