import Foundation
import HostCommands
import Remote

/// Where the database's data lives: a docker volume by its real name, or a host path.
public enum DataMount: Sendable, Equatable, CustomStringConvertible {
    case volume(String)
    case bind(String)
    case anonymous
    /// The service mounts nothing at the data directory: its data would live in the container.
    case none

    public var description: String {
        switch self {
        case .volume(let name): return "volume \(name)"
        case .bind(let path): return "host directory \(path)"
        case .anonymous: return "an anonymous volume (a new, empty one on every recreate)"
        case .none: return "nothing (the data would live inside the container)"
        }
    }
}

/// The compose project a container was created in, by its label: the one reading of that label,
/// for the database container's probe and for recover's look at the services' containers.
enum ComposeProjectLabel {
    /// A container's labels as JSON (`null` without any).
    static let format = "{{json .Config.Labels}}"

    /// The project in `format`'s line; nil without the label, or with an empty one.
    static func parse(_ labels: String) -> String? {
        let decoded = (try? JSONDecoder().decode([String: String]?.self, from: Data(labels.utf8))) ?? nil
        return decoded?["com.docker.compose.project"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The distinct projects `containers` carry; none when docker could not inspect them all.
    static func probe(containers: [String], timeout: Duration) -> HostProbe<Set<String>> {
        HostProbe("compose project labels", RemoteCommand("docker inspect --type container --format \(format) -- \(containers)", timeout: timeout)) { result in
            result.succeeded ? Set(result.stdoutText.split(separator: "\n").compactMap { parse(String($0)) }) : []
        }
    }
}

/// The database container as it runs now: its compose project and the mount at its data
/// directory. The one probe of that host fact, and its parser.
public struct RunningDatabase: Sendable, Equatable {
    public var container: String
    public var project: String?
    /// PGDATA from the container's environment, else postgres' default.
    public var dataDirectory: String
    public var data: DataMount
    /// Where `data` is mounted: the data directory itself, or a directory above it.
    public var mountPoint: String? = nil
    /// False for a container that exists but is stopped (recover reads it; deploy refuses it).
    public var running = true

    /// The data directory's path inside `data` ("" when mounted at the data directory itself).
    public var dataSubdirectory: String { Self.subdirectory(dataDirectory, under: mountPoint) }

    /// `dataDirectory`'s path inside the mount at `mountPoint` (normalised, holding it): "" at
    /// the mount itself or without one.
    static func subdirectory(_ dataDirectory: String, under mountPoint: String?) -> String {
        let path = normalised(dataDirectory)
        guard let mountPoint, path.count > mountPoint.count else { return "" }
        return String(path.dropFirst(mountPoint == "/" ? 1 : mountPoint.count + 1))
    }

    static let defaultDataDirectory = "/var/lib/postgresql/data"

    /// Line 1 running, line 2 the labels, line 3 the mounts (JSON), then PGDATA's value if set:
    /// only that variable leaves the host, the environment also holds the database password.
    /// JSON and `range` work on every Docker, with or without fields a container lacks.
    static func probe(container: String, timeout: Duration) -> RemoteCommand {
        let format = "{{json .State.Running}}{{println}}\(ComposeProjectLabel.format){{println}}{{json .Mounts}}{{println}}{{range .Config.Env}}{{println .}}{{end}}"
        return RemoteCommand("docker inspect --type container --format \(format) -- \(container) | sed -n '1,3p; 4,$s/^PGDATA=//p'", timeout: timeout)
    }

    /// Throws a refusal when no database container runs: botops never creates its first container.
    static func parse(stdout: String, stderr: String, container: String) throws -> RunningDatabase {
        guard let database = read(stdout: stdout, container: container) else {
            let said = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            if said.contains("No such") { throw DeployError.databaseNotRunning(container: container, state: "there is no such container") }
            throw DeployError.hostCommandFailed(step: "preflight", detail: "docker inspect \(container) printed what botops cannot read: \((said.isEmpty ? stdout : said).prefix(300))")
        }
        guard database.running else { throw DeployError.databaseNotRunning(container: container, state: "it is not running") }
        return database
    }

    /// The database container, running or not (recover starts a stopped stack's services in its
    /// project, and looks into its volume); nil when the probe found no container.
    static func read(stdout: String, container: String) -> RunningDatabase? {
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3, let running = Bool(lines[0]) else { return nil }
        struct Mount: Decodable {
            var `Type`: String
            var Name: String?
            var Source: String?
            var Destination: String
        }
        let mounts = (try? JSONDecoder().decode([Mount]?.self, from: Data(lines[2].utf8))) ?? nil
        let dataDirectory = lines.dropFirst(3).first { !$0.isEmpty } ?? defaultDataDirectory
        let data: DataMount
        let holder = containing(dataDirectory, in: (mounts ?? []).map(\.Destination))
        switch mounts?.first(where: { holder != nil && normalised($0.Destination) == holder }) {
        case let mount? where mount.Type == "volume": data = .volume(mount.Name ?? "")
        case let mount? where mount.Type == "bind": data = .bind(mount.Source ?? "")
        case .some: data = .anonymous
        case nil: data = .none
        }
        return RunningDatabase(container: container, project: ComposeProjectLabel.parse(lines[1]),
                               dataDirectory: dataDirectory, data: data, mountPoint: holder, running: running)
    }

    /// The rule that keeps the data: `compose` (the target revision's, resolved) must mount the
    /// database's data directory from the very volume (or directory) the running container does.
    /// Named or external does not matter; another volume, an anonymous one, a bind mount to
    /// another path or no database service at all would start the database on empty data.
    func judge(_ compose: ComposeProject, file: String, revision: String) throws {
        guard let service = compose.databaseService(container: container) else {
            throw DeployError.databaseDataMoved(container: container, file: file, revision: revision, running: data, target: nil)
        }
        // PGDATA set in the env file is not in `compose config`'s output; the running value holds then.
        let targetDirectory = service.dataDirectory ?? dataDirectory
        let held = service.mount(holding: targetDirectory)
        let holder = held?.point
        let target = held.map { compose.resolve($0.mount, project: project ?? "") } ?? DataMount.none
        // The same volume is not enough: the cluster must be at the same path inside it.
        let sameDirectory = normalised(targetDirectory) == normalised(dataDirectory)
            && (holder == nil || holder == normalised(mountPoint ?? dataDirectory))
        if target != data || !sameDirectory || data == .anonymous || data == .none {
            throw DeployError.databaseDataMoved(container: container, file: file, revision: revision, running: data, target: target,
                                                targetDirectory: sameDirectory ? nil : targetDirectory)
        }
    }

    /// The longest of `mountPoints` that holds `path` (itself or a directory above it), normalised.
    fileprivate static func containing(_ path: String, in mountPoints: [String]) -> String? {
        let path = normalised(path)
        return mountPoints.map(normalised).filter { $0 == path || path.hasPrefix($0 == "/" ? "/" : $0 + "/") }.max { $0.count < $1.count }
    }

    fileprivate static func normalised(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    private func normalised(_ path: String) -> String { Self.normalised(path) }
}

extension ComposeProject.Service {
    /// The mount holding `dataDirectory` (the longest mount point at or above it, normalised):
    /// where the database's data is, for deploy's judge and for recover when the container is gone.
    func mount(holding dataDirectory: String) -> (point: String, mount: ComposeProject.Mount)? {
        guard let point = RunningDatabase.containing(dataDirectory, in: Array(mounts.keys)),
              let held = mounts.first(where: { RunningDatabase.normalised($0.key) == point }) else { return nil }
        return (point, held.value)
    }
}
