import ArgumentParser
import BotOps
import Foundation

/// How to reach the host; shared by every command that talks to it.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "botops.yml to read.")
    var config: String = "botops.yml"

    @Option(name: .long, help: "Host to use instead of botops.yml's: an ssh config alias or user@host[:port].")
    var host: String?

    @Option(name: .customLong("ssh-config"), help: "ssh client config for resolving the host (default: botops.yml's ssh_config, else ~/.ssh/config).")
    var sshConfig: String?

    @Flag(name: .long, help: "Run on this machine instead of over ssh (botops runs on the host itself).")
    var local = false

    @Flag(name: .customLong("accept-new-host-key"), help: "Record the host's key if it is not yet known. A changed key is always refused.")
    var acceptNewHostKey = false

    /// botops.yml with flags applied. Without a config file, --host (or --local) is enough.
    func loadConfig() throws -> BotOpsConfig {
        var loaded: BotOpsConfig
        if FileManager.default.fileExists(atPath: config) {
            loaded = try BotOpsConfig.load(path: config)
        } else if let host {
            loaded = BotOpsConfig(host: host)
        } else if local {
            loaded = BotOpsConfig(host: "localhost")
        } else {
            throw ValidationError("no \(config) here: pass --config PATH, --host HOST or --local.")
        }
        if let host { loaded.host = host }
        if let sshConfig { loaded.sshConfig = sshConfig }
        return loaded
    }

    func settings(for config: BotOpsConfig) -> ConnectionSettings {
        ConnectionSettings(host: config.host, sshConfigPath: config.sshConfig, local: local, acceptNewHostKey: acceptNewHostKey)
    }
}
