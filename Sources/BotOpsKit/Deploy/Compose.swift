import HostCommands
import Remote
import Yams

/// How compose is called on the host: `docker compose` (v2) or `docker-compose` (v1), always
/// from the checkout with its env file and compose file, as the operator's runbook does.
public struct ComposeInvocation: Sendable, Equatable {
    public var program: [String]
    public var envFile: String
    public var file: String

    /// The words of `{compose}` in a playbook.
    public var words: [String] { program + ["--env-file", envFile, "-f", file] }

    public func callAsFunction(_ arguments: [String]) -> ShellScript {
        ShellScript(argv: words + arguments)
    }

    /// `compose ARGUMENTS` from the checkout's env and compose files, with the spelling botops.yml
    /// names, or for `auto` the first that works on the host (decided there, in the same command).
    /// For `auto`, stderr's first line says which ran: `spelling v2` or `spelling v1`.
    static func onHost(_ config: BotOpsConfig, _ arguments: [String]) -> ShellScript {
        let files = ["--env-file", config.compose.envFile, "-f", config.compose.file] + arguments
        switch config.compose.command {
        case .v2: return ShellScript(argv: ["docker", "compose"] + files)
        case .v1: return ShellScript(argv: ["docker-compose"] + files)
        case .auto:
            return """
                if docker compose version >/dev/null 2>&1; then echo \(spellingMarker)v2 >&2; docker compose \(files)
                elif command -v docker-compose >/dev/null 2>&1; then echo \(spellingMarker)v1 >&2; docker-compose \(files)
                else echo \(spellingMarker)none >&2; exit 127; fi
                """
        }
    }

    static let spellingMarker = "spelling "

    /// The program a command from `onHost` ran, from its stderr; nil when neither spelling works.
    static func program(for command: BotOpsConfig.ComposeCommand, stderr: String) -> [String]? {
        switch command {
        case .v2: return ["docker", "compose"]
        case .v1: return ["docker-compose"]
        case .auto:
            let line = stderr.split(separator: "\n").first { $0.hasPrefix(spellingMarker) }
            switch line?.dropFirst(spellingMarker.count) {
            case "v2": return ["docker", "compose"]
            case "v1": return ["docker-compose"]
            default: return nil
            }
        }
    }
}

/// What `compose config` says about the stack, parsed in memory: its output holds the env file's
/// values, so it is never printed or logged.
public struct ComposeProject: Sendable, Equatable {
    public struct Service: Sendable, Equatable {
        public var name: String
        public var image: String?
        public var containerName: String?
        public var hasHealthcheck: Bool
        /// How long `compose stop` waits after SIGTERM before SIGKILL (compose's default: 10 s).
        public var stopGracePeriod: Duration
        /// Named volumes the service mounts.
        public var volumes: [String]
    }

    public var services: [String: Service]
    /// Top-level volumes declared `external: true`.
    public var externalVolumes: Set<String>

    public var serviceNames: [String] { services.keys.sorted() }

    static func parse(_ yaml: String) throws -> ComposeProject {
        guard let root = try? Yams.compose(yaml: yaml), let servicesNode = root["services"], case .mapping(let serviceMap) = servicesNode else {
            throw DeployError.composeConfigUnreadable
        }
        var services: [String: Service] = [:]
        for (key, node) in serviceMap {
            guard let name = key.string else { continue }
            let volumes: [String] = (node["volumes"]?.sequence ?? []).compactMap { volume in
                if let short = volume.string { return short.split(separator: ":").first.map(String.init) }
                guard volume["type"]?.string ?? "volume" == "volume" else { return nil }
                return volume["source"]?.string
            }
            let grace = node["stop_grace_period"]?.string.flatMap(parseGoDuration) ?? .seconds(10)
            services[name] = Service(
                name: name, image: node["image"]?.string, containerName: node["container_name"]?.string,
                hasHealthcheck: node["healthcheck"] != nil && node["healthcheck"]?["disable"]?.bool != true,
                stopGracePeriod: grace, volumes: volumes)
        }
        var external: Set<String> = []
        if case .mapping(let volumes)? = root["volumes"] {
            for (key, node) in volumes where node["external"]?.bool == true || node["external"]?["name"] != nil {
                if let name = key.string { external.insert(name) }
            }
        }
        return ComposeProject(services: services, externalVolumes: external)
    }

    /// The database service: named like the database container, or declaring it as container_name.
    func databaseService(container: String) -> Service? {
        services[container] ?? services.values.first { $0.containerName == container }
    }
}

/// Go's duration text, as compose writes `stop_grace_period`: "10s", "1m30s", "500ms".
func parseGoDuration(_ text: String) -> Duration? {
    var total: Duration = .zero
    var number = ""
    var unit = ""
    func flush() -> Bool {
        guard let value = Double(number), value < 1e7 else { return false }
        let scale: Double
        switch unit {
        case "ms": scale = 0.001
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        default: return false
        }
        total += .milliseconds(Int64((value * scale * 1000).rounded()))
        number = ""
        unit = ""
        return true
    }
    for character in text {
        if character.isNumber || character == "." {
            if !unit.isEmpty, !flush() { return nil }
            number.append(character)
        } else {
            unit.append(character)
        }
    }
    guard !number.isEmpty, flush() else { return nil }
    return total
}
