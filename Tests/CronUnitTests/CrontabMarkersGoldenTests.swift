import Cron
import Foundation
import SandboxSupport
import Testing

/// The crontab `botops cron install` writes (its `# BEGIN botops NAME` / `# END botops NAME`
/// blocks, the guarded and CRON_TZ forms, every other line kept), byte for byte, on a Debian host
/// (cron ignores CRON_TZ) and a cronie one; and a crontab written so is read back unchanged: the
/// same blocks, the same other lines, and installing the same entries again changes nothing.
/// `BOTOPS_RECORD_GOLDEN=1` writes a missing golden file, and that run fails (review it, run again).
struct CrontabMarkersGoldenTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let unmanaged = "MAILTO=\"\"\n# the operator's own line\n17 * * * * /usr/local/bin/other --flag\n"

    static func entries() throws -> [CronEntry] {
        [try entry(weeklyEntryText), try entry("0 */6 * * * cd /opt/bot && ./generate_report.sh\n", name: "report")]
    }

    @Test(arguments: [("crontab-debian.txt", false), ("crontab-cronie.txt", true)])
    func installedCrontab(file: String, cronie: Bool) throws {
        let host = cronie ? cronieHost : debianHost
        let written = try ManagedCrontab(Crontab(text: Self.unmanaged)).plan(installing: try Self.entries(), host: host, now: renderNow).proposed.text
        let path = Self.golden.appendingPathComponent(file)
        if let mismatch = try GoldenFile.mismatch(path, written) { Issue.record(Comment(rawValue: mismatch)) }
        let expected = try String(contentsOf: path, encoding: .utf8)

        let read = try ManagedCrontab(Crontab(text: expected))
        #expect(read.blockNames == ["weekly-strategy-review", "report"])
        #expect(read.unmanagedLines.map { String(decoding: $0.bytes, as: UTF8.self) } == Self.unmanaged.split(separator: "\n").map(String.init))
        #expect(try read.plan(installing: try Self.entries(), host: host, now: renderNow).isNoOp)
    }
}
