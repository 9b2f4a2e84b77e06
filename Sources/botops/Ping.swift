import ArgumentParser
import BotOps
import Checks
import Foundation
import Remote

struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to the host, run `true`, and report who, where, the host key and timings."
    )

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let settings = connection.settings(for: try connection.loadConfig())
        let clock = ContinuousClock()
        let start = clock.now
        let line = try await settings.withConnection { host in
            let connected = clock.now
            let result = try await host.run("true")
            let roundTrip = clock.now - connected
            guard result.succeeded else {
                throw ValidationError("`true` on \(host.destination) ended with \(result.termination): the host's shell is broken.")
            }
            var line = host.destination
            if let ssh = host as? SSHConnection { line += "  host key \(ssh.hostKeyFingerprint)" }
            return line + "  connect \(milliseconds(connected - start))  round trip \(milliseconds(roundTrip))"
        }
        print(line)
    }
}
