import HostCommands

/// A step's command with named variables, `{service}`, substituted through the one quoting
/// function. A variable is `{` + letters and `_` + `}` not preceded by `$`, so `${HOME}` and
/// docker's `{{.State.Status}}` pass through untouched. Variables are never quoted in the
/// template: botops quotes them.
public struct PlaybookTemplate: Sendable, Equatable {
    public enum Variable: String, Sendable, CaseIterable {
        /// One service; a step that uses it runs once per service.
        case service
        /// All services of the deploy, each quoted.
        case services
        /// The checkout, e.g. /opt/bot.
        case path
        /// The compose command with its env file and compose file: `docker compose --env-file .env -f docker-compose.aws.yml`.
        case compose
        /// The revision being deployed (or rolled back to).
        case revision
        /// The revision that ran before.
        case previous
        /// The branch being deployed, empty for a bare revision.
        case branch
        /// The service's image name, e.g. bottrader/sighook:latest.
        case image
        /// The service's kept image, e.g. bottrader/sighook:botops-0a1b2c3d4e5f.
        case keptImage = "kept_image"

        var isPerService: Bool { self == .service || self == .image || self == .keptImage }
    }

    enum Part: Sendable, Equatable {
        case literal(String)
        case variable(Variable)
    }

    let parts: [Part]
    public let source: String

    /// Parses `text`; an unknown variable is reported by name with the known ones.
    public init(_ text: String) throws(TemplateError) {
        var parts: [Part] = []
        var literal = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "{", index == text.startIndex || text[text.index(before: index)] != "$",
               let close = text[index...].firstIndex(of: "}") {
                let name = text[text.index(after: index)..<close]
                if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0 == "_" }) {
                    guard let variable = Variable(rawValue: String(name)) else {
                        throw TemplateError(variable: String(name))
                    }
                    if !literal.isEmpty { parts.append(.literal(literal)) }
                    literal = ""
                    parts.append(.variable(variable))
                    index = text.index(after: close)
                    continue
                }
            }
            literal.append(character)
            index = text.index(after: index)
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
        self.source = text
    }

    /// True when the step runs once per service.
    public var isPerService: Bool {
        parts.contains { if case .variable(let variable) = $0 { variable.isPerService } else { false } }
    }

    /// The command with every variable quoted; a variable without a value becomes an empty word ('').
    public func render(_ values: [Variable: [String]]) -> ShellScript {
        ShellScript(template: parts.map { part in
            switch part {
            case .literal(let literal): return .literal(literal)
            case .variable(let variable): return .words(values[variable] ?? [])
            }
        })
    }
}

public struct TemplateError: Error, Equatable, CustomStringConvertible {
    public var variable: String

    public var description: String {
        "unknown variable {\(variable)}; the variables are: \(PlaybookTemplate.Variable.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", "))"
    }
}
