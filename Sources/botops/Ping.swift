import ArgumentParser
import BotOpsKit
import Checks
import Remote

struct Ping: HostCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to the host, run `true`, and report who, where, the host key and timings."
    )

    @OptionGroup var connection: ConnectionOptions

    func body(_ session: CommandSession) async throws -> ExitStatus {
        let clock = ContinuousClock()
        let start = clock.now
        let host = try await session.host()
        let connected = clock.now
        let result = try await host.run("true")
        let roundTrip = clock.now - connected
        guard result.succeeded else {
            throw ShellBroken(destination: host.destination, termination: result.termination)
        }
        var line = host.destination
        if let ssh = host as? SSHConnection { line += "  host key \(ssh.hostKeyFingerprint)" }
        print(line + "  connect \(milliseconds(connected - start))  round trip \(milliseconds(roundTrip))")
        return ExitStatus(.success)
    }
}

/// `true` failed: the host was reached, but its shell does not work (exit 1, not a usage error).
struct ShellBroken: Error, CustomStringConvertible, ExitCodeProviding {
    var destination: String
    var termination: Termination

    var description: String {
        "`true` on \(destination) ended with \(termination): the host's shell is broken. Check the user's login shell and /bin/sh there."
    }

    var exitCode: BotOpsExitCode { .failed }
}
