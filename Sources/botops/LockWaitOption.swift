import ArgumentParser

/// `--lock-wait`, on every command that takes the deploy lock: the lock's refusal advises it.
struct LockWaitOption: ParsableArguments {
    @Option(name: .customLong("lock-wait"), help: ArgumentHelp("Wait this long for a deploy lock held by someone else (e.g. 10m), instead of refusing.", valueName: "duration"),
            transform: parseDurationFlag)
    var lockWait: Duration?
}
