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

    @Test func theHostClockIsReadByOneProbe() throws {
        #expect(try Self.files(containing: "date +%s") == [Self.probes])
        #expect(try Self.files(containing: "date '+%s'").isEmpty)
    }

    /// The cron zone script and its parser are defined in Cron and used by the one probe only.
    @Test func theCronZoneIsReadByOneProbe() throws {
        #expect(try Self.files(containing: "CronHostTime.probeScript") == [Self.probes])
        #expect(try Self.files(containing: "CronHostTime(probeOutput:") == [Self.probes])
    }
}
