import Foundation
import Remote

/// Which host a command works on, as the user chose it: botops.yml (`--config`, else ./botops.yml
/// when present) with flags on top.
public struct HostSelection: Sendable {
    public static let defaultConfigPath = "botops.yml"

    /// Given with --config: then the file must exist.
    public var configPath: String?
    public var host: String?
    public var sshConfig: String?
    public var local: Bool
    public var acceptNewHostKey: Bool

    public init(configPath: String? = nil, host: String? = nil, sshConfig: String? = nil, local: Bool = false, acceptNewHostKey: Bool = false) {
        self.configPath = configPath
        self.host = host
        self.sshConfig = sshConfig
        self.local = local
        self.acceptNewHostKey = acceptNewHostKey
    }

    /// botops.yml with the flags applied. Without a config file, --host (or --local) is enough,
    /// but a --config that names a missing file is an error even then.
    public func loadConfig() throws -> BotOpsConfig {
        var loaded: BotOpsConfig
        if let configPath {
            loaded = try BotOpsConfig.load(path: configPath)
        } else if FileManager.default.fileExists(atPath: Self.defaultConfigPath) {
            loaded = try BotOpsConfig.load(path: Self.defaultConfigPath)
        } else if let host {
            loaded = BotOpsConfig(host: host)
        } else if local {
            loaded = BotOpsConfig(host: "localhost")
        } else {
            throw ConfigError(file: Self.defaultConfigPath, problem: "no such file here: pass --config PATH, --host HOST or --local.")
        }
        if let host { loaded.host = host }
        if let sshConfig { loaded.sshConfig = sshConfig }
        return loaded
    }

    public func settings(for config: BotOpsConfig) -> ConnectionSettings {
        ConnectionSettings(host: config.host, sshConfigPath: config.sshConfig, local: local, acceptNewHostKey: acceptNewHostKey)
    }
}

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
        let config: SSHConfig
        do {
            config = try SSHConfig.load(path: sshConfigPath)
        } catch {
            throw UnreadableSSHConfig(path: sshConfigPath, reason: error.localizedDescription)
        }
        return try SSHTargetResolver(config: config).resolve(host, acceptNewHostKey: acceptNewHostKey)
    }

    /// One connection per host: every command of a botops run shares it.
    public func connect() async throws -> any HostConnection {
        if local { return LocalHost() }
        return try await SSHConnection.connect(to: try resolveTarget())
    }
}

/// The ssh client config exists but cannot be read: a configuration problem, not an unreachable host.
public struct UnreadableSSHConfig: Error, CustomStringConvertible, ExitCodeProviding {
    public var path: String
    public var reason: String

    public var description: String {
        "cannot read the ssh config \(path): \(reason). Fix the file, or name another with --ssh-config FILE (or ssh_config: in botops.yml)."
    }

    public var exitCode: BotOpsExitCode { .usage }
}
