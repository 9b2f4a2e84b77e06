/// A user's crontab as bytes, line by line, so that every line botops does not own is written
/// back exactly as it was read (comments, environment lines, other jobs, any encoding).
public struct Crontab: Equatable, Sendable {
    /// Lines without their `\n`.
    public var lines: [[UInt8]]
    /// False only for text whose last line has no newline (cron itself refuses to install that).
    public var endsWithNewline: Bool

    public init(bytes: [UInt8]) {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        endsWithNewline = bytes.last == UInt8(ascii: "\n") || bytes.isEmpty
        if endsWithNewline { lines.removeLast() }
        self.lines = lines
    }

    public init(lines: [[UInt8]]) {
        self.lines = lines
        self.endsWithNewline = true
    }

    public init(text: String) {
        self.init(bytes: Array(text.utf8))
    }

    public var bytes: [UInt8] {
        var result = lines.joined(separator: [UInt8(ascii: "\n")]).map { $0 }
        if !lines.isEmpty && endsWithNewline { result.append(UInt8(ascii: "\n")) }
        return result
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public static let empty = Crontab(lines: [])
}

/// One line of a crontab as cron reads it.
public enum CrontabLine: Equatable, Sendable {
    case blank
    case comment(String)
    case environment(name: String, value: String)
    /// A job: its schedule fields as written and its command.
    case job(schedule: String, command: Substring)
    /// Something cron would refuse; kept as it is.
    case other

    public init(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let trimmed = Substring(text).trimmingWhitespace()
        if trimmed.isEmpty { self = .blank; return }
        if trimmed.hasPrefix("#") { self = .comment(String(trimmed)); return }
        if let equals = trimmed.firstIndex(of: "="), isEnvironmentName(trimmed[..<equals]) {
            let value = trimmed[trimmed.index(after: equals)...].trimmingWhitespace().trimmingQuotes()
            self = .environment(name: String(trimmed[..<equals].trimmingWhitespace()), value: String(value))
            return
        }
        let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let count = words.first?.hasPrefix("@") == true ? 1 : 5
        guard words.count > count else { self = .other; return }
        self = .job(schedule: words.prefix(count).joined(separator: " "), command: trimmed[words[count].startIndex...])
    }

    /// The command a job line runs, with a botops guard taken off.
    public var command: Substring? {
        guard case .job(_, let command) = self else { return nil }
        return ZoneGuard.unwrap(command)?.command ?? command
    }
}

/// A crontab botops cannot safely rewrite.
public struct CrontabError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var problem: String
    public var description: String { "crontab line \(line): \(problem)" }
}

/// The crontab split into botops's blocks and everything else.
public struct ManagedCrontab: Sendable {
    public enum Item: Equatable, Sendable {
        /// A line botops does not own, by index into `Crontab.lines`.
        case unmanaged(Int)
        /// `# BEGIN botops NAME` … `# END botops NAME`, both markers included.
        case block(name: String, lines: Range<Int>)
    }

    public let crontab: Crontab
    public let items: [Item]

    static let beginPrefix = "# BEGIN botops "
    static let endPrefix = "# END botops "

    public init(_ crontab: Crontab) throws {
        var items: [Item] = []
        var open: (name: String, start: Int)?
        var seen: Set<String> = []
        for (index, bytes) in crontab.lines.enumerated() {
            let text = Substring(String(decoding: bytes, as: UTF8.self)).trimmingWhitespace()
            if let name = Self.markerName(text, prefix: Self.beginPrefix) {
                if let open {
                    throw CrontabError(line: index + 1, problem: "botops block '\(name)' starts inside block '\(open.name)' (line \(open.start + 1)), which has no end marker. Repair the markers with crontab -e, or put a backup back with botops cron restore.")
                }
                guard !seen.contains(name) else {
                    throw CrontabError(line: index + 1, problem: "a second botops block '\(name)'. Remove one with crontab -e, then run botops cron install.")
                }
                open = (name, index)
            } else if let name = Self.markerName(text, prefix: Self.endPrefix) {
                guard let current = open, current.name == name else {
                    throw CrontabError(line: index + 1, problem: "'\(text)' ends a botops block that was not started. Repair the markers with crontab -e, or put a backup back with botops cron restore.")
                }
                items.append(.block(name: name, lines: current.start..<(index + 1)))
                seen.insert(name)
                open = nil
            } else if open == nil {
                items.append(.unmanaged(index))
            }
        }
        if let open {
            throw CrontabError(line: open.start + 1, problem: "botops block '\(open.name)' has no '\(Self.endPrefix)\(open.name)' line. Repair it with crontab -e, or put a backup back with botops cron restore.")
        }
        self.crontab = crontab
        self.items = items
    }

    /// Names of botops's blocks, in crontab order.
    public var blockNames: [String] {
        items.compactMap { if case .block(let name, _) = $0 { return name } else { return nil } }
    }

    public func blockLines(_ name: String) -> [[UInt8]]? {
        for case .block(name, let range) in items { return Array(crontab.lines[range]) }
        return nil
    }

    /// The lines botops does not own, in order.
    public var unmanagedLines: [(number: Int, bytes: [UInt8])] {
        items.compactMap { if case .unmanaged(let index) = $0 { return (index + 1, crontab.lines[index]) } else { return nil } }
    }

    private static func markerName(_ text: Substring, prefix: String) -> String? {
        guard text.hasPrefix(prefix) else { return nil }
        let name = text.dropFirst(prefix.count).prefix(while: { $0 != " " && $0 != "\t" })
        return CronEntry.isValidName(name) ? String(name) : nil
    }
}
