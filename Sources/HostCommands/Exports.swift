// ShellScript and SectionMarker live in the Basics leaf; every builder of a RemoteCommand writes
// ShellScript values, so importing HostCommands brings them along.
@_exported import Basics
