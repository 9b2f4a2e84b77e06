import Remote
import Yams

// The one YAML reader behind botops.yml and the playbooks: every problem names the file, the line
// and the key path, and says what was expected.

/// Reads one YAML mapping, remembering which keys were asked for so the rest can be reported.
final class MappingReader {
    let mapping: Node.Mapping
    let path: String
    let file: String
    let line: Int?
    private var known: Set<String> = []

    /// The document in `text`, nil when it is empty; invalid YAML is a `ConfigError` naming `file`.
    static func document(_ text: String, file: String) throws -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(file: file, problem: "not valid YAML: \(error)")
        }
    }

    init(_ node: Node, path: String, file: String) throws {
        guard case .mapping(let mapping) = node else {
            throw ConfigError(file: file, line: node.mark?.line, key: path.isEmpty ? nil : path, problem: "expected a mapping of keys, got \(describe(node))")
        }
        self.mapping = mapping
        self.path = path
        self.file = file
        self.line = node.mark?.line
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func value(_ key: String) -> Node? {
        known.insert(key)
        return mapping[key]
    }

    /// The line `key` is on, or the mapping's own line when it is absent.
    func line(of key: String) -> Int? {
        mapping.first { $0.key.string == key }?.key.mark?.line ?? line
    }

    func error(_ key: String, _ node: Node, _ problem: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line, key: keyPath(key), problem: problem)
    }

    func string(_ key: String, validate: (String) -> String? = { _ in nil }) throws -> String? {
        guard let node = value(key) else { return nil }
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            throw error(key, node, "expected a text value, got \(describe(node))")
        }
        if let expected = validate(scalar.string) {
            throw error(key, node, "'\(scalar.string)' is not valid: \(expected)")
        }
        return scalar.string
    }

    func name(_ key: String) throws -> String? {
        try string(key) { Name.isValid($0) ? nil : "expected a name of letters, digits, '_', '.', '-'" }
    }

    func strings(_ key: String, validate: (String) -> String? = { _ in nil }) throws -> [String]? {
        guard let node = value(key) else { return nil }
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            throw error(key, node, "expected a non-empty list such as [a, b], got \(describe(node))")
        }
        return try sequence.map { item in
            guard case .scalar(let scalar) = item, !scalar.string.isEmpty else {
                throw error(key, item, "expected each item to be a text value, got \(describe(item))")
            }
            if let expected = validate(scalar.string) {
                throw error(key, item, "item '\(scalar.string)' is not valid: \(expected)")
            }
            return scalar.string
        }
    }

    func names(_ key: String) throws -> [String]? {
        try strings(key) { Name.isValid($0) ? nil : "expected a name of letters, digits, '_', '.', '-'" }
    }

    func int(_ key: String, range: ClosedRange<Int>) throws -> Int? {
        guard let node = value(key) else { return nil }
        guard case .scalar(let scalar) = node, let number = Int(scalar.string), range.contains(number) else {
            throw error(key, node, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(describe(node))")
        }
        return number
    }

    /// A percentage, `90` or `87.5%`, from 0 to 100.
    func percentage(_ key: String) throws -> Double? {
        guard let node = value(key) else { return nil }
        let text = node.scalar.map { $0.string.hasSuffix("%") ? String($0.string.dropLast()) : $0.string }
        guard let number = text.flatMap(Double.init), number.isFinite, (0...100).contains(number) else {
            throw error(key, node, "expected a percentage from 0 to 100 such as 90, got \(describe(node))")
        }
        return number
    }

    /// A key that botops no longer reads: named with what to do instead of silently ignored.
    func retired(_ key: String, because advice: String) throws {
        guard let node = value(key) else { return }
        throw error(key, node, "no longer used: \(advice).")
    }

    func duration(_ key: String) throws -> Duration? {
        guard let node = value(key) else { return nil }
        guard case .scalar(let scalar) = node, let duration = parseDuration(scalar.string) else {
            throw error(key, node, "expected a duration such as 60s, 5m or 500ms, at most 24h, got \(describe(node))")
        }
        return duration
    }

    /// A list of mappings (the steps of a playbook), each read with its own key path `key[i]`.
    func mappings(_ key: String) throws -> [MappingReader]? {
        guard let node = value(key) else { return nil }
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            throw error(key, node, "expected a non-empty list, got \(describe(node))")
        }
        return try sequence.enumerated().map { index, item in
            try MappingReader(item, path: "\(keyPath(key))[\(index + 1)]", file: file)
        }
    }

    func mapping(_ key: String) throws -> MappingReader? {
        guard let node = value(key) else { return nil }
        return try MappingReader(node, path: keyPath(key), file: file)
    }

    func rejectUnknownKeys() throws {
        for (keyNode, _) in mapping {
            let key = keyNode.string ?? "?"
            if !known.contains(key) {
                throw ConfigError(file: file, line: keyNode.mark?.line, key: keyPath(key), problem: "unknown key; expected one of: \(known.sorted().joined(separator: ", ")).")
            }
        }
    }
}

func describe(_ node: Node) -> String {
    switch node {
    case .scalar(let scalar): return scalar.string.isEmpty ? "nothing" : "'\(scalar.string)'"
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    }
}
