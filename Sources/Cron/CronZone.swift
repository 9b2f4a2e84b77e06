import Foundation

/// A time zone from the tz database, as cron entries name it (`CRON_TZ=America/Los_Angeles`).
///
/// Instants are whole seconds since 1970-01-01 00:00 UTC; only the zone's UTC offsets are read
/// from Foundation, the calendar arithmetic is `Civil`'s.
public struct CronZone: Hashable, Sendable, CustomStringConvertible {
    public let identifier: String
    private let timeZone: TimeZone

    /// Nil unless `identifier` names a zone of the tz database, Area/Location style
    /// (`America/Los_Angeles`, `US/Pacific`) or UTC. Abbreviations (`PST`) and offsets (`GMT-8`)
    /// are refused: an abbreviation says nothing about when DST starts.
    public init?(identifier: String) {
        guard identifier.utf8.count <= 64, !identifier.isEmpty,
              identifier.utf8.allSatisfy(CronZone.isZoneByte),
              !identifier.hasPrefix("/"), !identifier.hasPrefix("-"),
              !identifier.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == ".." || $0 == "." }),
              CronZone.utcAliases.contains(identifier) || identifier.contains("/"),
              let timeZone = TimeZone(identifier: identifier),
              timeZone.identifier == identifier || CronZone.utcAliases.contains(identifier)
        else { return nil }
        self.identifier = identifier
        self.timeZone = timeZone
    }

    public static let utc = CronZone(identifier: "UTC")!

    public var description: String { identifier }

    public static func == (a: CronZone, b: CronZone) -> Bool { a.identifier == b.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }

    /// Seconds east of UTC in force at `instant`.
    public func offset(at instant: Int64) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
    }

    /// The wall-clock minute shown at `instant`.
    public func local(at instant: Int64) -> LocalTime {
        LocalTime(wallSeconds: instant + Int64(offset(at: instant)))
    }

    /// Every instant whose wall clock shows `local`, earliest first: none when the clocks skip it
    /// (spring forward), two when they show it twice (fall back).
    public func instants(of local: LocalTime) -> [Int64] {
        let wall = local.wallSeconds
        // Offsets change at most once within a day and a half on either side of any wall time.
        let nearby = Set([-129_600, 0, 129_600].map { offset(at: wall + $0) })
        return nearby.map { wall - Int64($0) }.filter { offset(at: $0) == Int(wall - $0) }.sorted()
    }

    /// The distinct UTC offsets this zone uses between `start` and `end` (seconds east of UTC).
    public func offsets(from start: Int64, to end: Int64) -> Set<Int> {
        var offsets: Set<Int> = [offset(at: start)]
        var cursor = Date(timeIntervalSince1970: TimeInterval(start))
        let limit = Date(timeIntervalSince1970: TimeInterval(end))
        while let next = timeZone.nextDaylightSavingTimeTransition(after: cursor), next < limit {
            offsets.insert(timeZone.secondsFromGMT(for: next))
            cursor = next
        }
        return offsets
    }

    /// The instants between `start` and `end` where this zone's offset changes.
    public func transitions(from start: Int64, to end: Int64) -> [Int64] {
        var result: [Int64] = []
        var cursor = Date(timeIntervalSince1970: TimeInterval(start))
        let limit = Date(timeIntervalSince1970: TimeInterval(end))
        while let next = timeZone.nextDaylightSavingTimeTransition(after: cursor), next < limit {
            result.append(Int64(next.timeIntervalSince1970.rounded(.down)))
            cursor = next
        }
        return result
    }

    /// True when both zones show the same wall clock at every instant between `start` and `end`
    /// (`US/Pacific` and `America/Los_Angeles`, `UTC` and `Etc/UTC`).
    public func agrees(with other: CronZone, from start: Int64, to end: Int64) -> Bool {
        if self == other { return true }
        let instants = [start] + transitions(from: start, to: end) + other.transitions(from: start, to: end)
        return instants.allSatisfy { offset(at: $0) == other.offset(at: $0) }
    }

    private static let utcAliases: Set<String> = ["UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal",
                                                  "Etc/Zulu", "Zulu", "GMT", "Etc/GMT", "Etc/GMT0", "GMT0", "Etc/Greenwich", "Greenwich"]

    private static func isZoneByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "_"),
             UInt8(ascii: "+"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
