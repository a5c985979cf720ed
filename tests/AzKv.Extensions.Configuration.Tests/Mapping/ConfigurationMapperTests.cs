using System.Text;
using AzKv.Extensions.Configuration.Mapping;
using Microsoft.Extensions.Logging.Abstractions;

namespace AzKv.Extensions.Configuration.Tests.Mapping;

public sealed class ConfigurationMapperTests
{
    private const string Json = "application/json";
    private const string Text = "text/plain; charset=utf-8";
    private const string FlagType = "application/vnd.microsoft.appconfig.ff+json;charset=utf-8";

    [Fact]
    public void Map_WhenKeysAreUnderThePrefix_TrimsItAndMapsSlashesToColons()
    {
        var data = Map(new KeySelection(["myapp/"], null), Item("myapp/Logging/LogLevel/Default", "Warning", Text), Item("myapp/Greeting", "hi", Text));

        Assert.Equal("Warning", data["Logging:LogLevel:Default"]);
        Assert.Equal("hi", data["Greeting"]);
        Assert.Equal(2, data.Count);
    }

    [Fact]
    public void Map_WhenAKeyIsOutsideEveryPrefix_LeavesItOut()
    {
        var data = Map(new KeySelection(["myapp/"], null), Item("other/Greeting", "no", Text), Item("myapp2/Greeting", "no", Text));

        Assert.Empty(data);
    }

    [Fact]
    public void Map_WhenThePrefixHasNoTrailingSlash_DropsTheLeadingSlashOfTheRest()
    {
        var data = Map(new KeySelection(["myapp"], null), Item("myapp/Db/Host", "db1", Text));

        Assert.Equal("db1", data["Db:Host"]);
    }

    [Fact]
    public void Map_WhenTheValueIsJson_ExpandsObjectsAndArraysLikeTheJsonFileProvider()
    {
        var value = """{"Host":"db1","Port":5432,"Tls":true,"Replicas":["r1","r2"],"Pool":{"Min":1,"Max":null},"Tags":{}}""";

        var data = Map(new KeySelection(["myapp/"], null), Item("myapp/Db", value, Json));

        Assert.Equal("db1", data["Db:Host"]);
        Assert.Equal("5432", data["Db:Port"]);
        Assert.Equal("True", data["Db:Tls"]);
        Assert.Equal("r1", data["Db:Replicas:0"]);
        Assert.Equal("r2", data["Db:Replicas:1"]);
        Assert.Equal("1", data["Db:Pool:Min"]);
        Assert.True(data.ContainsKey("Db:Pool:Max"));
        Assert.Null(data["Db:Pool:Max"]);
        Assert.Null(data["Db:Tags"]);
        Assert.False(data.ContainsKey("Db"));
    }

    [Fact]
    public void Map_WhenTheKeyIsThePrefixItselfAndHoldsAJsonObject_ExpandsItAtTheRoot()
    {
        var data = Map(new KeySelection(["myapp/settings"], null), Item("myapp/settings", """{"Greeting":"hi","Limits":{"Max":3}}""", "application/json; charset=utf-8"));

        Assert.Equal("hi", data["Greeting"]);
        Assert.Equal("3", data["Limits:Max"]);
    }

    [Fact]
    public void Map_WhenTheContentTypeIsNotJson_KeepsJsonLookingTextAsOneValue()
    {
        var data = Map(new KeySelection(["myapp/"], null), Item("myapp/Raw", """{"a":1}""", Text));

        Assert.Equal("""{"a":1}""", data["Raw"]);
    }

    [Fact]
    public void Map_WhenAJsonValueDoesNotParse_KeepsTheTextAsOneValue()
    {
        var data = Map(new KeySelection(["myapp/"], null), Item("myapp/Broken", "{not json", Json));

        Assert.Equal("{not json", data["Broken"]);
    }

    [Fact]
    public void Map_WhenTwoPrefixesGiveTheSameSetting_TheLaterSelectedPrefixWins()
    {
        var data = Map(new KeySelection(["base/", "prod/"], null), Item("base/Greeting", "base", Text), Item("prod/Greeting", "prod", Text), Item("base/Only", "b", Text));

        Assert.Equal("prod", data["Greeting"]);
        Assert.Equal("b", data["Only"]);
    }

    [Fact]
    public void Map_WhenEveryKeyIsSelected_LeavesFlagKeysOutOfTheSettings()
    {
        var data = Map(new KeySelection([string.Empty], null), Item("app/x", "1", Text), Item(".appconfig.featureflag/Beta", """{"id":"Beta","enabled":true}""", FlagType));

        Assert.Equal("1", data["app:x"]);
        Assert.Single(data);
    }

    [Fact]
    public void Map_WhenFlagsAreSelected_ExposesEachUnderFeatureManagementFeatureFlagsInKeyOrder()
    {
        var beta = """
            {"id":"Beta","enabled":true,
             "conditions":{"requirement_type":"All","client_filters":[{"name":"Microsoft.Percentage","parameters":{"Value":50}}]},
             "variants":[{"name":"Big","configuration_value":{"Size":10}},{"name":"Small","configuration_value":"s","status_override":"Disabled"}],
             "allocation":{"default_when_enabled":"Big","default_when_disabled":"Small","percentile":[{"variant":"Big","from":0,"to":50}],"user":[{"variant":"Small","users":["ann"]}],"seed":"s1"},
             "telemetry":{"enabled":true}}
            """;
        var alpha = """{"enabled":false}""";

        var data = Map(new KeySelection([], string.Empty), Item(".appconfig.featureflag/Beta", beta, FlagType), Item(".appconfig.featureflag/Alpha", alpha, FlagType));

        Assert.Equal("Alpha", data["feature_management:feature_flags:0:id"]);
        Assert.Equal("False", data["feature_management:feature_flags:0:enabled"]);
        Assert.Equal("Beta", data["feature_management:feature_flags:1:id"]);
        Assert.Equal("True", data["feature_management:feature_flags:1:enabled"]);
        Assert.Equal("All", data["feature_management:feature_flags:1:conditions:requirement_type"]);
        Assert.Equal("Microsoft.Percentage", data["feature_management:feature_flags:1:conditions:client_filters:0:name"]);
        Assert.Equal("50", data["feature_management:feature_flags:1:conditions:client_filters:0:parameters:Value"]);
        Assert.Equal("Big", data["feature_management:feature_flags:1:variants:0:name"]);
        Assert.Equal("10", data["feature_management:feature_flags:1:variants:0:configuration_value:Size"]);
        Assert.Equal("s", data["feature_management:feature_flags:1:variants:1:configuration_value"]);
        Assert.Equal("Disabled", data["feature_management:feature_flags:1:variants:1:status_override"]);
        Assert.Equal("Big", data["feature_management:feature_flags:1:allocation:default_when_enabled"]);
        Assert.Equal("Small", data["feature_management:feature_flags:1:allocation:default_when_disabled"]);
        Assert.Equal("50", data["feature_management:feature_flags:1:allocation:percentile:0:to"]);
        Assert.Equal("ann", data["feature_management:feature_flags:1:allocation:user:0:users:0"]);
        Assert.Equal("s1", data["feature_management:feature_flags:1:allocation:seed"]);
        Assert.Equal("True", data["feature_management:feature_flags:1:telemetry:enabled"]);
    }

    [Theory]
    [InlineData("""{"id":"Other","enabled":true}""")]
    [InlineData("""["not","an","object"]""")]
    [InlineData("{broken")]
    public void Map_WhenAFlagIsInvalid_SkipsItWithoutTakingAnIndex(string value)
    {
        var data = Map(new KeySelection([], string.Empty), Item(".appconfig.featureflag/Bad", value, FlagType), Item(".appconfig.featureflag/Good", """{"enabled":true}""", FlagType));

        Assert.Equal("Good", data["feature_management:feature_flags:0:id"]);
        Assert.False(data.ContainsKey("feature_management:feature_flags:1:id"));
    }

    [Fact]
    public void Map_WhenFlagsHaveANamePrefix_LoadsOnlyThoseFlags()
    {
        var data = Map(new KeySelection([], "myapp."), Item(".appconfig.featureflag/myapp.Beta", "{}", FlagType), Item(".appconfig.featureflag/other.Beta", "{}", FlagType));

        Assert.Equal("myapp.Beta", data["feature_management:feature_flags:0:id"]);
        Assert.False(data.ContainsKey("feature_management:feature_flags:1:id"));
    }

    [Theory]
    [InlineData("application/json", true)]
    [InlineData("Application/JSON; charset=utf-8", true)]
    [InlineData("application/vnd.microsoft.appconfig.ff+json;charset=utf-8", true)]
    [InlineData("text/plain", false)]
    [InlineData("application/octet-stream", false)]
    [InlineData("", false)]
    public void IsJson_WhenGivenAContentType_RecognisesJsonAndPlusJsonTypes(string contentType, bool expected)
    {
        Assert.Equal(expected, ConfigurationMapper.IsJson(contentType));
    }

    [Fact]
    public void WatchPrefixes_WhenOnePrefixContainsAnother_ListsAndWatchesOnlyTheOuterOne()
    {
        var selection = new KeySelection(["myapp/db/", "myapp/", "other/"], string.Empty);

        Assert.Equal([".appconfig.featureflag/", "myapp/", "other/"], selection.WatchPrefixes);
        Assert.Equal(["myapp/db/", "myapp/", "other/"], selection.Prefixes);
    }

    [Fact]
    public void Map_WhenTheSameKeyIsSelectedUnderTwoLabels_TheLaterSelectionWins()
    {
        var items = new[] { Item("a/Color", "plain", Text), Item(KeySelection.EntryKey("a/Color", "dev"), "blue", Text), Item(KeySelection.EntryKey("a/Size", "prod"), "XL", Text) };

        var devOnTop = Map(new KeySelection([new LabelSelection("a/", null), new LabelSelection("a/", "dev")], null, []), items);
        var plainOnTop = Map(new KeySelection([new LabelSelection("a/", "dev"), new LabelSelection("a/", null)], null, []), items);

        Assert.Equal("blue", devOnTop["Color"]);
        Assert.Equal("plain", plainOnTop["Color"]);
        Assert.False(devOnTop.ContainsKey("Size"));
    }

    [Fact]
    public void IsSelected_WhenTheLabelIsNotSelected_ReturnsFalse()
    {
        var selection = new KeySelection([new LabelSelection("a/", "dev")], string.Empty, []);

        Assert.True(selection.IsSelected(KeySelection.EntryKey("a/k", "dev")));
        Assert.False(selection.IsSelected("a/k"));
        Assert.False(selection.IsSelected(KeySelection.EntryKey("a/k", "prod")));
        Assert.True(selection.IsSelected(".appconfig.featureflag/Beta"));
        Assert.False(selection.IsSelected(KeySelection.EntryKey(".appconfig.featureflag/Beta", "dev")));
    }

    [Fact]
    public void Map_WhenTrimPrefixesGiven_TheFirstMatchingOneIsTrimmed()
    {
        var selection = new KeySelection([new LabelSelection(string.Empty, null)], null, ["app/db/", "app/"]);

        var data = Map(selection, Item("app/db/Host", "h", Text), Item("app/Name", "n", Text), Item("other/X", "x", Text));

        Assert.Equal("h", data["Host"]);
        Assert.Equal("n", data["Name"]);
        Assert.Equal("x", data["other:X"]);
    }

    private static Dictionary<string, string?> Map(KeySelection selection, params StoredItem[] items) =>
        ConfigurationMapper.Map(selection, items.ToDictionary(i => i.Key, StringComparer.Ordinal), NullLogger.Instance, out _);

    private static StoredItem Item(string key, string value, string contentType) => new(key, contentType, Encoding.UTF8.GetBytes(value));
}
