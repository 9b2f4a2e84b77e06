import HostCommands
import Remote

/// `botops logs SERVICE`: the service's container log, as the runbooks read it with `docker logs`
/// (snapshot, cache and report-job errors), found by compose's labels so neither the container
/// name nor the compose project matters.
public struct ServiceLogs: Sendable {
    public var service: String
    public var tail: Int?
    /// Docker's `--since`: "10m", "2h", or a timestamp.
    public var since: String?
    /// An extended regular expression, as `grep -E` takes it.
    public var pattern: String?

    public init(service: String, tail: Int? = nil, since: String? = nil, pattern: String? = nil) {
        self.service = service
        self.tail = tail
        self.since = since
        self.pattern = pattern
    }

    func command(_ config: BotOpsConfig) -> RemoteCommand {
        var logs: [String] = ["docker", "logs"]
        if let tail { logs += ["--tail", String(tail)] }
        if let since { logs += ["--since", since] }
        var script: ShellScript = """
            cd \(config.path) || exit 70
            id=$(\(ComposeInvocation.containers(of: service, path: config.path)) 2>/dev/null | head -n 1)
            [ -n "$id" ] || exit 3
            \(logs) "$id" 2>&1
            """
        if let pattern { script = script.piped(into: "grep -E -- \(pattern)") }
        return RemoteCommand(script, timeout: .seconds(120))
    }

    /// Streams the log lines to `output`; returns the command's status (grep's 1: nothing matched).
    public func run(_ config: BotOpsConfig, on runner: any CommandRunner, output: @escaping @Sendable (String) -> Void) async throws -> Termination {
        try await runner.run(command(config)) { _, line in output(line) }.result.termination
    }
}
