/// Process exit codes, as the README's table gives them; CI gates rely on them.
public enum BotOpsExitCode: Int32, Sendable {
    case success = 0
    /// A check failed, or a deploy failed and was rolled back (the host is healthy).
    case failed = 1
    case usage = 2
    case unreachable = 3
    /// Lock held, blackout window, dirty tree.
    case refused = 4
    /// Failed and the host is left changed (rollback failed or not run): it needs a human.
    case needsHuman = 5
}

/// Errors that know which exit code they mean.
public protocol ExitCodeProviding {
    var exitCode: BotOpsExitCode { get }
}
