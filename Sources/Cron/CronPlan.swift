/// What `botops cron install` will do to a crontab: computed without touching any host.
public struct CronPlan: Sendable {
    public enum Change: Equatable, Sendable {
        case added
        case updated
        /// An existing unmanaged line running the same command, now marked managed.
        case adopted(line: Int, text: String)
        case unchanged
        case removed
    }

    public struct EntryChange: Equatable, Sendable {
        public let name: String
        public let change: Change
        /// How the entry is installed when that is not its plain line (guarded, CRON_TZ).
        public let note: String?
    }

    public let current: Crontab
    public let proposed: Crontab
    public let changes: [EntryChange]

    /// True when installing would not change a single byte: then nothing is written.
    public var isNoOp: Bool { current.bytes == proposed.bytes }

    /// A unified diff of the crontab before and after.
    public func diff(fromLabel: String = "crontab (now)", toLabel: String = "crontab (after install)") -> String {
        unifiedDiff(current.lines, proposed.lines, fromLabel: fromLabel, toLabel: toLabel)
    }
}

/// An install that would run a job twice or guess which line is meant: an unmanaged crontab line
/// runs an entry's program differently from the entry (other arguments or redirects), or several
/// lines run the entry's exact command.
public struct AdoptionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var entry: String
    /// The entry's command, or nil when two entries compete for one line.
    public var entryCommand: String?
    public var lines: [(number: Int, text: String)]

    public static func == (a: AdoptionError, b: AdoptionError) -> Bool {
        a.entry == b.entry && a.entryCommand == b.entryCommand && a.lines.map(\.number) == b.lines.map(\.number) && a.lines.map(\.text) == b.lines.map(\.text)
    }

    public var description: String {
        let listed = lines.map { "line \($0.number): \($0.text)" }.joined(separator: "; ")
        guard let entryCommand else {
            return "\(entry) both match crontab \(listed); botops will not guess which one it is. Make the entries' commands differ, then install again."
        }
        return "refusing to install \(entry) (\(entryCommand)): the crontab already runs its program by hand, differently (\(listed)); installing would run it twice. Make the hand line the entry's exact command (so install adopts it) or delete it with crontab -e, then install again."
    }
}

extension CronEntry {
    /// True when `command` runs one of this entry's programs (by absolute path), or is its command.
    func isRun(by command: CronCommand) -> Bool {
        !parsedCommand.scripts.isDisjoint(with: command.scripts) || command.isSameCommand(as: parsedCommand)
    }
}

extension ManagedCrontab {
    /// The crontab with botops's blocks equal to `entries`: blocks of entries not given are removed,
    /// existing blocks rewritten in place, an unmanaged line running an entry's exact command
    /// adopted in place, and the rest appended. Every other line stays byte for byte.
    public func plan(installing entries: [CronEntry], host: CronHostTime, now: Int64) throws -> CronPlan {
        let byName = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let adoptions = try adoptedLines(for: entries.filter { blockLines($0.name) == nil })
        var output: [[UInt8]] = []
        var changes: [CronPlan.EntryChange] = []
        var effectiveZone = host.zone
        var placed: Set<String> = []

        func emit(_ entry: CronEntry) throws -> RenderedEntry {
            let rendered = try entry.render(for: host, effectiveZone: effectiveZone, now: now)
            output += Self.block(for: entry, rendered).map { Array($0.utf8) }
            placed.insert(entry.name)
            return rendered
        }

        for item in items {
            switch item {
            case .unmanaged(let index):
                let line = crontab.lines[index]
                if let entry = adoptions[index] {
                    let rendered = try emit(entry)
                    changes.append(.init(name: entry.name, change: .adopted(line: index + 1, text: String(decoding: line, as: UTF8.self)), note: rendered.note))
                    continue
                }
                output.append(line)
                if host.honoursCronTZ, case .environment("CRON_TZ", let value) = CrontabLine(line), let zone = CronZone(identifier: value) {
                    effectiveZone = zone
                }
            case .block(let name, let range):
                guard let entry = byName[name] else {
                    changes.append(.init(name: name, change: .removed, note: nil))
                    continue
                }
                let before = output.count
                let rendered = try emit(entry)
                let same = Array(output[before...]) == Array(crontab.lines[range])
                changes.append(.init(name: name, change: same ? .unchanged : .updated, note: rendered.note))
            }
        }
        for entry in entries where !placed.contains(entry.name) {
            let rendered = try emit(entry)
            changes.append(.init(name: entry.name, change: .added, note: rendered.note))
        }
        var proposed = Crontab(lines: output)
        if output == crontab.lines { proposed = crontab }
        return CronPlan(current: crontab, proposed: proposed, changes: changes)
    }

    /// The crontab without botops's block `name`; nil when there is no such block.
    public func removing(_ name: String) -> Crontab? {
        guard blockLines(name) != nil else { return nil }
        var output: [[UInt8]] = []
        for item in items {
            switch item {
            case .unmanaged(let index): output.append(crontab.lines[index])
            case .block(let blockName, let range) where blockName != name: output += crontab.lines[range]
            case .block: continue
            }
        }
        var result = Crontab(lines: output)
        result.endsWithNewline = crontab.endsWithNewline || output.isEmpty
        return result
    }

    /// Unmanaged lines, active or commented out, that run one of the entries' programs: candidates
    /// a human installed by hand.
    public func lookalikes(of entries: [CronEntry]) -> [(line: Int, text: String, entry: String)] {
        unmanagedLines.compactMap { number, bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            var line = CrontabLine(bytes)
            if case .comment(let comment) = line {
                line = CrontabLine(Array(comment.drop(while: { $0 == "#" || $0 == " " || $0 == "\t" }).utf8))
            }
            guard let command = line.command, let entry = entries.first(where: { $0.isRun(by: CronCommand(command)) }) else { return nil }
            return (number, text, entry.name)
        }
    }

    /// Line index → the entry that adopts it: the one active line whose command is the entry's,
    /// whitespace aside. A line running the entry's program any other way is refused, never
    /// adopted or doubled; so are two lines with the entry's command.
    private func adoptedLines(for entries: [CronEntry]) throws -> [Int: CronEntry] {
        var result: [Int: CronEntry] = [:]
        let jobs: [(index: Int, command: CronCommand)] = items.compactMap {
            guard case .unmanaged(let index) = $0, let command = CrontabLine(crontab.lines[index]).command else { return nil }
            return (index, CronCommand(command))
        }
        func text(_ index: Int) -> (number: Int, text: String) { (index + 1, String(decoding: crontab.lines[index], as: UTF8.self)) }
        for entry in entries {
            let running = jobs.filter { entry.isRun(by: $0.command) }
            let exact = running.filter { $0.command.isSameCommand(as: entry.parsedCommand) }
            let other = running.filter { !$0.command.isSameCommand(as: entry.parsedCommand) }
            guard other.isEmpty, exact.count <= 1 else {
                throw AdoptionError(entry: entry.source, entryCommand: entry.command, lines: (other.isEmpty ? exact : other).map { text($0.index) })
            }
            guard let line = exact.first else { continue }
            if let taken = result[line.index] {
                throw AdoptionError(entry: "\(taken.name) and \(entry.name)", entryCommand: nil, lines: [text(line.index)])
            }
            result[line.index] = entry
        }
        return result
    }

    /// The marker lines around an entry's rendered lines.
    static func block(for entry: CronEntry, _ rendered: RenderedEntry) -> [String] {
        var lines = ["\(beginPrefix)\(entry.name) (managed by botops: edit crontab.d/\(entry.name)\(CronEntry.fileExtension), then run botops cron install)"]
        if rendered.form == .guarded, let zone = entry.zone {
            lines.append("# \(entry.name): '\(entry.schedule.text)' in \(zone.identifier); this cron ignores CRON_TZ, so the guard below checks the time there")
        }
        lines += rendered.lines
        lines.append("\(endPrefix)\(entry.name)")
        return lines
    }
}
