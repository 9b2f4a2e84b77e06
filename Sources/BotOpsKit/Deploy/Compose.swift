import HostCommands
import Remote
import Yams

/// `-p PROJECT` when the running project is known.
private func projectWords(_ project: String?) -> [String] {
    project.map { ["-p", $0] } ?? []
}

/// How compose is called on the host: `docker compose` (v2) or `docker-compose` (v1), always
/// from the checkout with its env file and compose file, as the operator's runbook does.
public struct ComposeInvocation: Sendable, Equatable {
    public var program: [String]
    public var envFile: String
    public var file: String
    /// The running stack's compose project (its db container's label), settled in preflight:
    /// compose would otherwise derive one from the checkout's directory name, and `up` would start
    /// a second stack on new, empty volumes when the two differ.
    public var project: String?

    /// The words of `{compose}` in a playbook.
    public var words: [String] { program + projectWords(project) + ["--env-file", envFile, "-f", file] }

    public func callAsFunction(_ arguments: [String]) -> ShellScript {
        ShellScript(argv: words + arguments)
    }

    /// `compose ARGUMENTS` from the checkout's env and compose files, with the spelling botops.yml
    /// names, or for `auto` the first that works on the host (decided there, in the same command).
    /// For `auto`, stderr's first line says which ran: `spelling v2` or `spelling v1`.
    /// `file` replaces `-f FILE` (the compose file read from stdin, say).
    static func onHost(_ config: BotOpsConfig, project: String?, _ arguments: [String], file: [String]? = nil) -> ShellScript {
        let files = projectWords(project) + ["--env-file", config.compose.envFile] + (file ?? ["-f", config.compose.file]) + arguments
        switch config.compose.command {
        case .v2: return ShellScript(argv: ["docker", "compose"] + files)
        case .v1: return ShellScript(argv: ["docker-compose"] + files)
        case .auto:
            return """
                if docker compose version </dev/null >/dev/null 2>&1; then echo \(spellingMarker)v2 >&2; docker compose \(files)
                elif command -v docker-compose >/dev/null 2>&1; then echo \(spellingMarker)v1 >&2; docker-compose \(files)
                else echo \(spellingMarker)none >&2; exit 127; fi
                """
        }
    }

    static let spellingMarker = "spelling "

    /// What a failed compose command said, for a message: its last 300 characters (whole lines),
    /// where compose puts the error; compose v1's Python traceback ends with it too. No spelling line.
    static func failureText(_ stderr: String) -> String {
        let lines = stderr.split(separator: "\n").filter { !$0.hasPrefix(spellingMarker) && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        var kept: [Substring] = []
        for line in lines.reversed() where kept.isEmpty || kept.reduce(0, { $0 + $1.count + 1 }) + line.count <= 300 {
            kept.insert(line, at: 0)
        }
        return kept.joined(separator: "\n").trimmingCharacters(in: .whitespaces).prefix(300).description
    }

    /// The IDs of a service's containers, newest first, found by the labels compose puts on them
    /// (the checkout's directory and the service): the same whatever the project is called, and
    /// straight from docker (compose itself takes most of a second to start).
    static func containers(of service: String, path: String) -> ShellScript {
        "docker ps -a -q --no-trunc --filter \("label=com.docker.compose.project.working_dir=" + path) --filter \("label=com.docker.compose.service=" + service) --filter label=com.docker.compose.oneoff=False"
    }

    /// `compose config` of the compose file as committed at `revision`, judged before the checkout
    /// moves: read from git on stdin, resolved from the checkout as the running stack is. Exits 71
    /// when the revision has no such file.
    func config(at revision: String, path: String) -> ShellScript {
        Self.config(at: revision, file: file, ShellScript(argv: program + projectWords(project) + ["--env-file", envFile] + Self.fromStdin(path) + ["config"]))
    }

    /// The same with the spelling decided on the host (`onHost`): before preflight has settled it.
    static func config(at revision: String, path: String, _ config: BotOpsConfig, project: String?) -> ShellScript {
        Self.config(at: revision, file: config.compose.file, onHost(config, project: project, ["config"], file: fromStdin(path)))
    }

    private static func fromStdin(_ path: String) -> [String] { ["-f", "-", "--project-directory", path] }

    private static func config(at revision: String, file: String, _ compose: ShellScript) -> ShellScript {
        let read = ShellScript(argv: ["git", "show", revision + ":" + file])
        return "git cat-file -e \(revision + ":" + file) 2>/dev/null || exit 71; \(read) | {\n\(compose)\n}"
    }

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
        /// What the service mounts, at which path in the container.
        public var mounts: [String: Mount]
        /// PGDATA from the service's `environment:` (only that variable: the rest may be secret).
        public var dataDirectory: String? = nil
    }

    /// Where a mount's data lives, as the compose file says it.
    public enum Mount: Sendable, Equatable {
        /// A volume by its key in the file's top-level `volumes:` (or a name compose does not know).
        case volume(String)
        case anonymous
        case bind(String)
    }

    /// A top-level volume: its `name:` (compose v2 resolves it; v1 keeps the key) and whether it is external.
    public struct Volume: Sendable, Equatable {
        public var name: String?
        public var external: Bool
    }

    public var services: [String: Service]
    public var volumes: [String: Volume]

    public var serviceNames: [String] { services.keys.sorted() }

    static func parse(_ yaml: String) throws -> ComposeProject {
        guard let root = try? Yams.compose(yaml: yaml), let servicesNode = root["services"], case .mapping(let serviceMap) = servicesNode else {
            throw DeployError.composeConfigUnreadable
        }
        var services: [String: Service] = [:]
        for (key, node) in serviceMap {
            guard let name = key.string else { continue }
            var mounts: [String: Mount] = [:]
            for volume in node["volumes"]?.sequence ?? [] {
                if let (target, mount) = parseMount(volume) { mounts[target] = mount }
            }
            let grace = node["stop_grace_period"]?.string.flatMap(parseGoDuration) ?? .seconds(10)
            services[name] = Service(
                name: name, image: node["image"]?.string, containerName: node["container_name"]?.string,
                hasHealthcheck: node["healthcheck"] != nil && node["healthcheck"]?["disable"]?.bool != true,
                stopGracePeriod: grace, mounts: mounts, dataDirectory: environmentValue("PGDATA", node["environment"]))
        }
        var volumes: [String: Volume] = [:]
        if case .mapping(let declared)? = root["volumes"] {
            for (key, node) in declared {
                guard let key = key.string else { continue }
                // `external: {name: X}` is the older spelling of `external: true` with `name: X`.
                let externalName = node["external"]?["name"]?.string
                volumes[key] = Volume(name: node["name"]?.string ?? externalName,
                                      external: node["external"]?.bool == true || externalName != nil)
            }
        }
        return ComposeProject(services: services, volumes: volumes)
    }

    /// One variable of `environment:`, as a mapping or as a list of `KEY=VALUE`.
    private static func environmentValue(_ key: String, _ node: Node?) -> String? {
        if case .mapping(let variables)? = node { return variables[Node(key)]?.string }
        return node?.sequence?.lazy.compactMap { $0.string }.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// A service's volume entry: short (`SOURCE:TARGET[:MODE]`, `TARGET`) or long syntax.
    private static func parseMount(_ node: Node) -> (String, Mount)? {
        if let short = node.string {
            let parts = short.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2 else { return (short, .anonymous) }
            let source = parts[0]
            let isPath = source.hasPrefix("/") || source.hasPrefix(".") || source.hasPrefix("~")
            return (parts[1], isPath ? .bind(source) : .volume(source))
        }
        guard let target = node["target"]?.string else { return nil }
        let source = node["source"]?.string ?? ""
        switch node["type"]?.string ?? "volume" {
        case "volume": return (target, source.isEmpty ? .anonymous : .volume(source))
        case "bind": return (target, .bind(source))
        default: return (target, .anonymous)
        }
    }

    /// The docker volume (or host path) behind `mount` when the stack runs as compose project
    /// `project`: a top-level volume's `name:`, an external volume's key, else `<project>_<key>`.
    func resolve(_ mount: Mount, project: String) -> DataMount {
        switch mount {
        case .anonymous: return .anonymous
        case .bind(let path): return .bind(path)
        case .volume(let key):
            guard let declared = volumes[key] else { return .volume(key) }
            if let name = declared.name { return .volume(name) }
            return .volume(declared.external ? key : "\(project)_\(key)")
        }
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
