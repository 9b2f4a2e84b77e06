import Remote

extension RemoteError: ExitCodeProviding {
    public var exitCode: BotOpsExitCode { isUnreachable ? .unreachable : .failed }
}

extension SSHTargetError: ExitCodeProviding {
    public var exitCode: BotOpsExitCode { .usage }
}
