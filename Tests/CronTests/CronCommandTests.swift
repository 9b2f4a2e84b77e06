@testable import Cron
import Testing

/// The one parser of "which programs a crontab command runs", shared by verify and install.
@Suite struct CronCommandTests {
    @Test func programsPastWrappersShellsAndCd() {
        #expect(CronCommand("/opt/bot/x.sh >> /opt/bot/logs/x.log 2>&1").programs == ["/opt/bot/x.sh"])
        #expect(CronCommand("bash -e /opt/bot/x.sh").programs == ["/opt/bot/x.sh"])
        #expect(CronCommand("cd /opt//bot/ && ./x.sh --midday").programs == ["/opt/bot/x.sh"])
        #expect(CronCommand("A=1 nice -n 10 /opt/bot/x.sh | mail ops").programs == ["/opt/bot/x.sh", "mail"])
        #expect(CronCommand("echo /opt/bot/x.sh").scripts.isEmpty)
        #expect(CronCommand("true % /opt/bot/x.sh").scripts.isEmpty)
    }

    @Test func sameCommandIgnoresOnlyWhitespace() {
        let entry = CronCommand("/opt/bot/x.sh >> /opt/bot/logs/x.log 2>&1")
        #expect(entry.isSameCommand(as: CronCommand("  /opt/bot/x.sh\t>>/opt/bot/logs/x.log   2>&1 ")))
        #expect(!entry.isSameCommand(as: CronCommand("/opt/bot/x.sh >> /opt/bot/logs/other.log 2>&1")))
        #expect(!entry.isSameCommand(as: CronCommand("/opt/bot/x.sh --midday >> /opt/bot/logs/x.log 2>&1")))
        #expect(!entry.isSameCommand(as: CronCommand("/opt/bot/x.sh >> /opt/bot/logs/x.log 2 >&1")))
        #expect(!CronCommand("echo 'a  b'").isSameCommand(as: CronCommand("echo 'a b'")))
    }
}
