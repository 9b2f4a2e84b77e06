import Foundation
import Testing

/// Each host fact is read by one probe: where the rule can be stated as text, the sources hold it.
/// A second `date +%s` or a second reader of the cron zone probe's script would be a second parser
/// of the same fact, free to disagree with the first (the host's clock with its own marker, the
/// cron zone silently read as UTC).
struct HostProbeRuleTests {
    static let probes = "Sources/HostCommands/HostTimeProbes.swift"

    /// Every Swift file under Sources, by path relative to the repository, with its text.
    static func sources() throws -> [String: String] {
        let root = ModuleGraphTests.repositoryRoot
        let sources = root.appendingPathComponent("Sources")
        var files: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: sources.path)
        while let relative = walker?.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            files["Sources/" + relative] = try String(contentsOf: sources.appendingPathComponent(relative), encoding: .utf8)
        }
        return files
    }

    /// The files whose text contains `needle`, sorted.
    static func files(containing needle: String) throws -> [String] {
        try sources().filter { $0.value.contains(needle) }.map(\.key).sorted()
    }

    /// Any spelling of the clock in seconds: `date +%s`, `date -u '+%s'`, `date "+%s"`, bash's
    /// `$EPOCHSECONDS`, printf's `%(%s)T`.
    static let clockReads = [#"\bdate\b[^\n;|&)]*%s"#, #"EPOCHSECONDS"#, #"%\(%s\)T"#]

    /// The files whose text matches one of `patterns`, sorted.
    static func files(matching patterns: [String]) throws -> [String] {
        let regexes = try patterns.map { try Regex($0) }
        return try sources().filter { file in regexes.contains { file.value.contains($0) } }.map(\.key).sorted()
    }

    @Test func theHostClockIsReadByOneProbe() throws {
        #expect(try Self.files(matching: Self.clockReads) == [Self.probes])
    }

    /// The rule sees the spellings a second clock read would use.
    @Test func theClockRuleSeesEverySpelling() throws {
        let regexes = try Self.clockReads.map { try Regex($0) }
        for spelling in ["date +%s", "date -u +%s", "date '+%s'", #"date "+%s""#, "date +'%s'", "echo $EPOCHSECONDS", "printf '%(%s)T' -1"] {
            #expect(regexes.contains { spelling.contains($0) }, "\(spelling)")
        }
        for other in ["update %s", "date -u +%FT%TZ", "the date; printf %s"] {
            #expect(!regexes.contains { other.contains($0) }, "\(other)")
        }
    }

    /// The cron zone script and its parser are defined in Cron and used by the one probe only.
    @Test func theCronZoneIsReadByOneProbe() throws {
        #expect(try Self.files(matching: [#"CronHostTime\s*\.\s*probeScript"#]) == [Self.probes])
        #expect(try Self.files(matching: [#"CronHostTime\s*(\.\s*init\s*)?\(\s*probeOutput:"#]) == [Self.probes])
        // A second script of its own: /etc/localtime resolved anywhere but the one script.
        #expect(try Self.files(matching: [#"readlink[^\n]*/etc/localtime"#, #"\[ -L /etc/localtime"#]) == ["Sources/Cron/CronHostTime.swift"])
    }

    /// Any `df` a script could parse, in Swift source or in a shell script within it; `df -h`
    /// (human sizes, advice to the operator) is none.
    static let diskReads = [#"\bdf\s+-[^h\s]"#, #"\bdf\s+["'$/.]"#]

    /// Free disk (status, deploy's preflight, backup, restore) is read by the one probe: a second
    /// df line would be a second parser, free to disagree (bytes vs kilobytes, a mount cut at its
    /// first space).
    @Test func freeDiskIsReadByOneProbe() throws {
        #expect(try Self.files(matching: Self.diskReads) == ["Sources/HostCommands/FreeDisk.swift"])
        let regexes = try Self.diskReads.map { try Regex($0) }
        for spelling in [#"df -Pk "$d""#, "df -P -B1 \"$dir\"", "df /var", "df \"$HOME\"", "df -k ."] {
            #expect(regexes.contains { spelling.contains($0) }, "\(spelling)")
        }
        for other in ["pdf -x", "undf -P", "the df of", "free disk space on the host (df -h)"] {
            #expect(!regexes.contains { other.contains($0) }, "\(other)")
        }
    }

    /// The database container's state (gate word, health, start time) has one template and one
    /// parser, verify's: status and gate read it there, not through a state template of their own.
    /// Text alone cannot see the db's name given to deploy's service-state template (status did
    /// that): `StatusParsingTests.statusAsksDockerForTheDatabaseOnlyThroughTheOneProbe` does.
    @Test func theDatabaseContainersStateIsReadByOneProbe() throws {
        #expect(try Self.files(matching: [#"\.State\.Paused"#, #"json \.State\}\}"#]) == ["Sources/Checks/ContainerState.swift"])
    }

    /// The compose project label has one reader (`ComposeProjectLabel`), for the database's probe
    /// and recover's look at the services' containers.
    @Test func theComposeProjectLabelIsReadByOneProbe() throws {
        #expect(try Self.files(matching: [#"Config\.Labels[^\n]*compose\.project"#, #"\["com\.docker\.compose\.project"\]"#]) == ["Sources/BotOpsKit/Deploy/DatabaseVolume.swift"])
    }
}
