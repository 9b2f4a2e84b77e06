import ArgumentParser
import BotOpsKit

/// How to reach the host; shared by every command that talks to it.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "botops.yml to read (default: ./botops.yml if present). A file named here must exist.")
    var config: String?

    @Option(name: .long, help: "Host to use instead of botops.yml's: an ssh config alias or user@host[:port].")
    var host: String?

    @Option(name: .customLong("ssh-config"), help: "ssh client config for resolving the host (default: botops.yml's ssh_config, else ~/.ssh/config).")
    var sshConfig: String?

    @Flag(name: .long, help: "Run on this machine instead of over ssh (botops runs on the host itself).")
    var local = false

    @Flag(name: .customLong("accept-new-host-key"), help: "Record the host's key if it is not yet known. A changed key is always refused.")
    var acceptNewHostKey = false

    var selection: HostSelection {
        HostSelection(configPath: config, host: host, sshConfig: sshConfig, local: local, acceptNewHostKey: acceptNewHostKey)
    }
}
