import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `playbooks/recover.yml`: which of recover's built-in steps run, and in what order. Unlike the
/// deploy playbook it takes no commands: an emergency tool must do only what was reviewed here.
public struct RecoverPlaybook: Sendable, Equatable {
    public enum Step: String, Sendable, CaseIterable {
        /// The nine checks (the report script is not run) plus what recover needs; changes nothing.
        case diagnose
        /// Save local changes, then restore tracked files from HEAD.
        case files
        /// The managed entries installed; an emptied crontab gets the user's own lines back.
        case cron
        /// Executable bits as git tracks them; `logs/` recreated.
        case modes
        /// The database container unpaused or started, the services started or restarted.
        case database
        /// The nine checks.
        case checks
    }

    public var file: String
    public var steps: [Step]

    /// The playbook compiled into botops.
    public static let builtIn = RecoverPlaybook(file: "(built in)", steps: Step.allCases)

    /// playbooks/recover.yml beside botops.yml when there is one, else the built-in playbook
    /// (`builtIn`, which a test keeps equal to the shipped file).
    /// Its name in the playbooks directory (install-host copies it with deploy.yml and rollback.yml).
    public static let fileName = "recover.yml"

    public static func load(directory: String) throws -> RecoverPlaybook {
        let path = directory + "/" + fileName
        // Only "no such file" falls back, as for deploy.yml: a dangling symlink or an unreadable
        // file is an override gone wrong, which the built-in steps would hide.
        var info = stat()
        if lstat(path, &info) != 0 {
            guard errno == ENOENT else {
                throw ConfigError(file: path, problem: "cannot look at the recover playbook: \(String(cString: strerror(errno))). Fix its permissions, or remove it to use the one built into botops.")
            }
            return builtIn
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, problem: "cannot read the recover playbook: check its permissions (or a symlink that points nowhere), or remove it to use the one built into botops.")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    public static func parse(_ text: String, file: String) throws -> RecoverPlaybook {
        guard let root = try MappingReader.document(text, file: file) else {
            throw ConfigError(file: file, problem: "the recover playbook is empty; it needs 'steps:'.")
        }
        let top = try MappingReader(root, path: "", file: file)
        guard let readers = try top.mappings("steps") else {
            throw ConfigError(file: file, key: "steps", problem: "missing; list recover's steps in order.")
        }
        try top.rejectUnknownKeys()
        var steps: [Step] = []
        var named: Set<Step> = []
        for reader in readers {
            if try reader.string("run") != nil {
                throw ConfigError(file: file, line: reader.line(of: "run"), key: reader.keyPath("run"),
                                  problem: "recover runs only its built-in steps; a 'run:' command is refused. Enable, disable or reorder: \(Step.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            guard let name = try reader.string("name"), let step = Step(rawValue: name) else {
                throw ConfigError(file: file, line: reader.line(of: "name") ?? reader.line, key: reader.keyPath("name"),
                                  problem: "expected one of recover's built-in steps: \(Step.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            guard named.insert(step).inserted else {
                throw ConfigError(file: file, line: reader.line(of: "name"), key: reader.keyPath("name"), problem: "'\(name)' is listed twice.")
            }
            let enabled = try reader.string("enabled", validate: { ["true", "false"].contains($0) ? nil : "expected true or false" })
            if enabled != "false" { steps.append(step) }
            try reader.rejectUnknownKeys()
        }
        guard steps.first == .diagnose else {
            throw ConfigError(file: file, key: "steps", problem: "the first step must be diagnose: nothing changes before the host is diagnosed.")
        }
        if steps.contains(.checks), steps.last != .checks {
            throw ConfigError(file: file, key: "steps", problem: "checks must be the last step: it judges the repaired host.")
        }
        return RecoverPlaybook(file: file, steps: steps)
    }
}
