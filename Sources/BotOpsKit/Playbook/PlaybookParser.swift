import Foundation
import Yams

extension Playbook {
    /// Default time limits per built-in step; a `run` step without `timeout:` gets `defaultRunTimeout`.
    static let defaultRunTimeout: Duration = .seconds(600)

    /// The playbook of `kind` in `directory` when that file exists (any problem with it is a
    /// `ConfigError`), else the shipped one built into botops: each file replaces its built-in
    /// counterpart on its own.
    public static func resolve(_ kind: Kind, directory: String) throws -> Playbook {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(kind.fileName).path
        // Only "no such file" falls back: a dangling symlink, a directory botops may not search or a
        // `playbooks:` naming a file is an override gone wrong, which the built-in would hide.
        var info = stat()
        if lstat(path, &info) != 0 {
            guard errno == ENOENT else {
                throw ConfigError(file: path, problem: "cannot look at the \(kind.rawValue) playbook: \(String(cString: strerror(errno))). Fix its permissions, or remove it to use the one built into botops.")
            }
            var playbook = try parse(kind.builtInText, file: "\(kind.fileName) (built into botops)", kind: kind)
            playbook.origin = .builtIn(absent: path)
            return playbook
        }
        return try load(path: path, kind: kind)
    }

    /// Reads `path`; any problem is a `ConfigError` naming the file, line and key.
    public static func load(path: String, kind: Kind) throws -> Playbook {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, problem: "cannot read the \(kind.rawValue) playbook: check its permissions, or remove it to use the one built into botops.")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path, kind: kind)
    }

    public static func parse(_ text: String, file: String, kind: Kind) throws -> Playbook {
        guard let root = try MappingReader.document(text, file: file) else {
            throw ConfigError(file: file, problem: "the playbook is empty; it needs 'steps:'.")
        }
        let top = try MappingReader(root, path: "", file: file)
        guard let readers = try top.mappings("steps") else {
            throw ConfigError(file: file, line: root.mark?.line, key: "steps", problem: "missing; list the steps in order (see playbooks/README.md).")
        }
        try top.rejectUnknownKeys()
        var steps: [PlaybookStep] = []
        for reader in readers {
            let step = try parseStep(reader, kind: kind)
            if steps.contains(where: { $0.name == step.name }) {
                throw ConfigError(file: file, line: reader.line(of: "name"), key: reader.keyPath("name"), problem: "'\(step.name)' names two steps; step names must be unique.")
            }
            steps.append(step)
        }
        let builtins = steps.compactMap { if case .builtin(let builtin) = $0.action { builtin } else { nil } }
        if let missing = kind.required.first(where: { !builtins.contains($0) }) {
            throw ConfigError(file: file, line: top.line(of: "steps"), key: "steps", problem: "a \(kind.rawValue) playbook needs a step with 'builtin: \(missing.rawValue)'.")
        }
        if builtins.first != .lock || steps.first?.action != .builtin(.lock) {
            throw ConfigError(file: file, line: top.line(of: "steps"), key: "steps", problem: "the first step must be 'builtin: lock', so nothing runs unlocked.")
        }
        let declared = Set(steps.filter { $0.touches != nil }.map(\.name))
        let warnings = assumeTouches(in: &steps, file: file)
        // After `assumeTouches`: which step starts the containers may be taken, not declared.
        try checkOrder(steps, kind: kind, file: file, declared: declared)
        return Playbook(kind: kind, file: file, steps: steps, origin: .file(file), warnings: warnings)
    }

    /// A playbook written before `touches:` existed (no step declares `touches: containers`) still
    /// runs as it did: botops cannot know which `run:` step starts the containers, so it assumes the
    /// safe answer and says which key to add. A step after `builtin: stop` (or any step, in a
    /// playbook without one) is taken as `touches: containers`: a failure from there on restarts
    /// the containers in the rollback, and an interruption after it does not start the old,
    /// stopped ones beside new ones. A step before the stop is preparation (the playbook stops the
    /// containers itself later): it leaves the containers alone and, undeclared, runs to its end
    /// when interrupted rather than being cut half-way.
    private static func assumeTouches(in steps: inout [PlaybookStep], file: String) -> [String] {
        var warnings: [String] = []
        let stop = steps.firstIndex { $0.effect == .stopsContainers }
        if !steps.contains(where: { $0.touches == .containers }) {
            for index in steps.indices {
                guard case .run = steps[index].action, steps[index].touches == nil else { continue }
                let step = steps[index]
                if stop.map({ index > $0 }) ?? true {
                    steps[index].touches = .containers
                    warnings.append("\(file): step '\(step.name)' (line \(step.line)) does not say what it does to the running containers; botops takes it as 'touches: containers' (a failure from there on restarts the containers in the rollback). Add 'touches: containers' to the step that starts them, or 'touches: nothing-running' to one that does not.")
                } else {
                    warnings.append("\(file): step '\(step.name)' (line \(step.line)) does not say what it does to the running containers; botops lets it run to its end when interrupted. Add 'touches: nothing-running' when it changes nothing that runs (a build, stopped at once by Ctrl-C).")
                }
            }
        }
        if let stop, !steps[stop...].contains(where: { $0.effect == .startsContainers }) {
            warnings.append("\(file): 'builtin: stop' (line \(steps[stop].line)) stops the containers, but no step after it declares 'touches: containers': an interruption after the stop starts the old containers again. Add 'touches: containers' to the step that starts the new ones.")
        }
        return warnings
    }

    private static func parseStep(_ reader: MappingReader, kind: Kind) throws -> PlaybookStep {
        let file = reader.file
        guard let name = try reader.name("name") else {
            throw ConfigError(file: file, line: reader.line, key: reader.keyPath("name"), problem: "missing; every step needs a name.")
        }
        let command = try reader.string("run")
        let builtinName = try reader.string("builtin")
        let action: PlaybookStep.Action
        switch (command, builtinName) {
        case let (command?, nil):
            do {
                action = .run(try PlaybookTemplate(command))
            } catch {
                throw ConfigError(file: file, line: reader.line(of: "run"), key: reader.keyPath("run"), problem: error.description)
            }
        case let (nil, builtinName?):
            let allowed = kind.allowed.map(\.rawValue)
            guard let builtin = BuiltinStep(rawValue: builtinName), kind.allowed.contains(builtin) else {
                throw ConfigError(file: file, line: reader.line(of: "builtin"), key: reader.keyPath("builtin"),
                                  problem: "'\(builtinName)' is not a built-in step of a \(kind.rawValue) playbook; expected one of: \(allowed.joined(separator: ", ")).")
            }
            action = .builtin(builtin)
        case (_?, _?):
            throw ConfigError(file: file, line: reader.line(of: "builtin"), key: reader.keyPath("builtin"), problem: "a step has either 'run' or 'builtin', not both.")
        case (nil, nil):
            throw ConfigError(file: file, line: reader.line, key: reader.keyPath("run"), problem: "missing; a step needs 'run: COMMAND' or 'builtin: NAME'.")
        }
        let onFailure = try reader.string("on_failure", validate: {
            OnFailure(rawValue: $0) == nil ? "expected one of: \(OnFailure.allCases.map(\.rawValue).joined(separator: ", "))" : nil
        }).flatMap(OnFailure.init(rawValue:)) ?? .rollback
        let touches = try reader.string("touches", validate: {
            PlaybookStep.Touches(rawValue: $0) == nil ? "expected one of: \(PlaybookStep.Touches.allCases.map(\.rawValue).joined(separator: ", "))" : nil
        }).flatMap(PlaybookStep.Touches.init(rawValue:))
        if touches != nil, case .builtin(let builtin) = action {
            throw ConfigError(file: file, line: reader.line(of: "touches"), key: reader.keyPath("touches"),
                              problem: "'builtin: \(builtin.rawValue)' knows what it touches; 'touches' is for 'run' steps.")
        }
        let step = PlaybookStep(
            name: name, line: reader.line ?? 0, action: action,
            timeout: try reader.duration("timeout") ?? defaultTimeout(action),
            retries: try reader.int("retries", range: 0...10) ?? 0,
            onFailure: onFailure,
            changes: try reader.string("changes"),
            touches: touches)
        try reader.rejectUnknownKeys()
        return step
    }

    private static func defaultTimeout(_ action: PlaybookStep.Action) -> Duration {
        switch action {
        case .run: return defaultRunTimeout
        case .builtin(.checks), .builtin(.baseline): return .seconds(300)
        case .builtin: return .seconds(120)
        }
    }
}
