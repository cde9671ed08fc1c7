//! Processes as a program sees them from the command line: what happens
//! when every Process waits, when a forked Process fails, when the main
//! computation ends with Processes still ready, and when a signal comes
//! while the VM idles. (Scheduling itself is tested in Smalltalk:
//! `ZagProcessesTest`, and Pharo's SemaphoreTest and friends.)

mod common;
use common::zag;

#[test]
fn a_deadlock_ends_the_program_with_the_stacks_of_the_waiting_processes() {
    let out = zag(&[
        "eval",
        "| s t | s := Semaphore new. t := Semaphore new. \
         [ t wait ] forkNamed: 'helper'. Processor yield. s wait. 3",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("Error: deadlock: every Process waits, and no Delay is pending"),
        "{stderr}"
    );
    // Both Processes are shown, each with where it waits.
    assert_eq!(
        stderr.matches("waiting on a Semaphore").count(),
        2,
        "{stderr}"
    );
    assert!(stderr.contains("UndefinedObject>>DoIt"), "{stderr}");
    assert!(stderr.contains("[] in UndefinedObject>>DoIt"), "{stderr}");
}

#[test]
fn a_process_waiting_on_a_delay_is_no_deadlock() {
    let out = zag(&[
        "eval",
        "| s | s := Semaphore new. [ (Delay forMilliseconds: 30) wait. s signal ] fork. s wait. #woken",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "#woken\n");
}

#[test]
fn an_unhandled_error_in_a_forked_process_ends_the_program_with_its_stack() {
    let out = zag(&["eval", "[ nil foo ] fork. Processor yield. 3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("MessageNotUnderstood: UndefinedObject>>foo\n"),
        "{stderr}"
    );
    assert!(stderr.contains("[] in UndefinedObject>>DoIt"), "{stderr}");
}

/// Once the main computation is done, the Processes it left ready run
/// (lower priorities too), as Pharo's UI process lets them when it idles;
/// its value is still the result.
#[test]
fn processes_left_ready_run_when_the_main_computation_ends() {
    for options in [&["--no-jit"][..], &["--jit-threshold", "0"][..]] {
        let out = zag(&[
            options,
            &[
                "eval",
                "[ Transcript show: 'low'; cr ] forkAt: Processor userBackgroundPriority. \
                 [ Transcript show: 'same'; cr ] fork. Transcript show: 'main'; cr. 42",
            ],
        ]
        .concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "main\nsame\nlow\n42\n",
            "{options:?}"
        );
    }
}

/// A higher-priority Process woken by a Delay preempts a busy loop, in the
/// interpreter and in machine code (the timer raises the alarm that loops
/// test on their back-edges): without preemption the loop would never end.
#[test]
fn a_delay_preempts_a_busy_lower_priority_process() {
    for options in [&["--no-jit"][..], &["--jit-threshold", "0"][..]] {
        let out = zag(&[
            options,
            &[
                "eval",
                "| done n | done := false. n := 0. \
                 [ (Delay forMilliseconds: 100) wait. done := true ] forkAt: Processor userInterruptPriority. \
                 [ done ] whileFalse: [ n := n + 1 ]. done",
            ],
        ]
        .concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{options:?}: {stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "true\n");
    }
}

/// The VM idles (sleeps) while every Process waits for a Delay; a signal
/// still ends the program with the stack of the main Process.
#[cfg(unix)]
#[test]
fn a_signal_ends_a_program_that_idles_waiting_for_a_delay() {
    let out = common::signal_after_first_line(
        &[
            "eval",
            "Transcript show: 'waiting'; cr. (Delay forSeconds: 60) wait",
        ],
        "waiting\n",
        std::time::Duration::from_millis(200),
        libc::SIGINT,
    );
    let stderr = &out.stderr;
    assert_eq!(out.status.code(), Some(128 + libc::SIGINT), "{stderr}");
    assert!(stderr.starts_with("Interrupted by SIGINT\n"), "{stderr}");
    assert!(stderr.contains("Delay>>wait"), "{stderr}");
}

/// A Process that waits on a Semaphore nothing else refers to can never
/// run again: a full collection reclaims it, its stack with it. One that
/// waits on a Semaphore still reachable stays, and runs when signalled.
#[test]
fn processes_waiting_where_nothing_can_reach_them_are_collected() {
    let program = "| weak kept semaphore done | \
        weak := WeakArray new: 50. \
        1 to: 50 do: [ :i | weak at: i put: ([ Semaphore new wait ] forkAt: Processor activePriority + 1) ]. \
        semaphore := Semaphore new. done := 0. kept := WeakArray new: 50. \
        1 to: 50 do: [ :i | kept at: i put: ([ semaphore wait. done := done + 1 ] forkAt: Processor activePriority + 1) ]. \
        Smalltalk garbageCollect. \
        { weak count: [ :each | each notNil ]. kept count: [ :each | each notNil ]. \
          [ 50 timesRepeat: [ semaphore signal ]. done ] value }";
    for options in [&[][..], &["--gc-stress", "1"]] {
        let mut args = options.to_vec();
        args.extend(["eval", program]);
        let out = zag(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "#(0 50 50)\n",
            "{options:?}"
        );
    }
}
