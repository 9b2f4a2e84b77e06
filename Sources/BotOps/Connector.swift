import Foundation
import Remote

/// Where commands should run, after combining botops.yml with command-line flags.
public struct ConnectionSettings: Sendable {
    public var host: String
    public var sshConfigPath: String
    public var local: Bool
    public var acceptNewHostKey: Bool

    public init(host: String, sshConfigPath: String? = nil, local: Bool = false, acceptNewHostKey: Bool = false) {
        self.host = host
        self.sshConfigPath = sshConfigPath ?? NSHomeDirectory() + "/.ssh/config"
        self.local = local
        self.acceptNewHostKey = acceptNewHostKey
    }

    public func resolveTarget() throws -> SSHTarget {
        let resolver = SSHTargetResolver(config: try SSHConfig.load(path: sshConfigPath))
        return try resolver.resolve(host, acceptNewHostKey: acceptNewHostKey)
    }

    /// One connection per host: every command of a botops run shares it.
    public func connect() async throws -> any HostConnection {
        if local { return LocalHost() }
        return try await SSHConnection.connect(to: try resolveTarget())
    }

    /// Connects, runs `body`, and closes the connection whether `body` succeeds or throws.
    public func withConnection<T>(_ body: (any HostConnection) async throws -> T) async throws -> T {
        let host = try await connect()
        return try await host.closing { try await body(host) }
    }
}
