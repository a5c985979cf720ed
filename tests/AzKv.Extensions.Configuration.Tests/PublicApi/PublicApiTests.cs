using System.Reflection;
using System.Text;
using AzKv.Client;

namespace AzKv.Extensions.Configuration.Tests.PublicApi;

/// <summary>
/// The public API of the two packages is a contract with their users: every public and protected
/// type and member, as a package user sees it, is listed in <c>src/&lt;package&gt;/PublicApi.txt</c>.
/// A change to the API fails this test until the file is updated in the same change, so an
/// accidental break (or an accidental new public type) shows up in review. To accept a deliberate
/// change, run the tests with <c>AZKV_ACCEPT_PUBLIC_API=1</c> and commit the rewritten file.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Packages() => new() { "AzKv.Client", "AzKv.Extensions.Configuration" };

    [Theory]
    [MemberData(nameof(Packages))]
    public void PublicApi_WhenComparedWithTheBaseline_IsUnchanged(string package)
    {
        var assembly = package == "AzKv.Client" ? typeof(AzKvClient).Assembly : typeof(AzKvConfigurationOptions).Assembly;
        var actual = Describe(assembly);
        var path = Path.Combine(AzKv.Testing.RepositoryFiles.Root, "src", package, "PublicApi.txt");
        if (Environment.GetEnvironmentVariable("AZKV_ACCEPT_PUBLIC_API") == "1")
        {
            File.WriteAllText(path, actual);
        }

        var expected = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : string.Empty;
        var added = Lines(actual).Except(Lines(expected)).ToList();
        var removed = Lines(expected).Except(Lines(actual)).ToList();

        Assert.True(
            added.Count == 0 && removed.Count == 0,
            $"The public API of {package} differs from {path}.\nAdded:\n  {string.Join("\n  ", added)}\nRemoved:\n  {string.Join("\n  ", removed)}\n" +
            "If the change is intended, run the tests with AZKV_ACCEPT_PUBLIC_API=1 and commit the file.");
    }

    [Fact]
    public void Describe_WhenAMemberIsPublic_ListsItWithNullability()
    {
        var text = Describe(typeof(AzKvClient).Assembly);

        Assert.Contains("class AzKv.Client.AzKvClient", text, StringComparison.Ordinal);
        Assert.Contains("method System.Threading.Tasks.Task<AzKv.Client.KvEntry?> GetAsync(string key, System.Threading.CancellationToken cancellationToken = default)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("RequestPipeline", text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void PublicMembers_WhenTheAssemblyIsBuilt_AllHaveDocumentation(string package)
    {
        var assembly = package == "AzKv.Client" ? typeof(AzKvClient).Assembly : typeof(AzKvConfigurationOptions).Assembly;
        var xml = Path.ChangeExtension(assembly.Location, ".xml");

        // The build writes the XML docs the package ships (GenerateDocumentationFile, CS1591 as an error).
        Assert.True(File.Exists(xml), $"{xml} is missing");
        var docs = System.Xml.Linq.XDocument.Load(xml);
        var documented = docs.Descendants("member").Select(m => (string?)m.Attribute("name")).ToHashSet(StringComparer.Ordinal);
        var undocumented = ExportedTypes(assembly).Where(t => !documented.Contains("T:" + t.FullName!.Replace('+', '.'))).Select(t => t.FullName).ToList();
        Assert.Empty(undocumented);
    }

    internal static string Describe(Assembly assembly)
    {
        var text = new StringBuilder();
        var nullability = new NullabilityInfoContext();
        foreach (var type in ExportedTypes(assembly))
        {
            text.Append(Kind(type)).Append(' ').Append(Name(type));
            var bases = new List<string>();
            if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType) && baseType != typeof(Enum) && !type.IsEnum)
            {
                bases.Add(Name(baseType));
            }

            bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic).Select(Name).Order(StringComparer.Ordinal));
            if (bases.Count > 0)
            {
                text.Append(" : ").Append(string.Join(", ", bases));
            }

            text.Append('\n');
            var members = new List<string>();
            const BindingFlags Flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var member in type.GetMembers(Flags))
            {
                var line = member switch
                {
                    ConstructorInfo c when Visible(c) => $"ctor({Parameters(c.GetParameters(), nullability)})",
                    MethodInfo m when Visible(m) && !m.IsSpecialName =>
                        $"method {Static(m.IsStatic)}{TypeName(m.ReturnParameter, nullability)} {m.Name}{Generic(m)}({Parameters(m.GetParameters(), nullability)})",
                    PropertyInfo p when Visible(p.GetMethod) || Visible(p.SetMethod) =>
                        $"property {Static((p.GetMethod ?? p.SetMethod)!.IsStatic)}{TypeName(nullability.Create(p), p.PropertyType)} {p.Name} {{ {Accessors(p)}}}",
                    FieldInfo f when (f.IsPublic || f.IsFamily) && !f.IsSpecialName =>
                        type.IsEnum ? $"value {f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}"
                        : $"field {(f.IsLiteral ? "const " : Static(f.IsStatic))}{(f.IsInitOnly ? "readonly " : string.Empty)}{TypeName(nullability.Create(f), f.FieldType)} {f.Name}",
                    EventInfo e when Visible(e.AddMethod) => $"event {Name(e.EventHandlerType!)} {e.Name}",
                    _ => null,
                };
                if (line is not null && !member.Name.StartsWith('<'))
                {
                    members.Add("  " + line);
                }
            }

            foreach (var line in members.Order(StringComparer.Ordinal))
            {
                text.Append(line).Append('\n');
            }
        }

        return text.ToString();
    }

    private static IEnumerable<Type> ExportedTypes(Assembly assembly) =>
        assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal);

    private static bool Visible(MethodBase? method) => method is { IsPublic: true } or { IsFamily: true } or { IsFamilyOrAssembly: true };

    private static string Kind(Type type) =>
        type.IsEnum ? "enum"
        : type.IsInterface ? "interface"
        : type.IsValueType ? (type.GetCustomAttributes().Any(a => a.GetType().Name == "IsReadOnlyAttribute") ? "readonly struct" : "struct")
        : typeof(Delegate).IsAssignableFrom(type) ? "delegate"
        : type.IsAbstract && type.IsSealed ? "static class"
        : (type.IsSealed ? "sealed " : type.IsAbstract ? "abstract " : string.Empty) + (type.GetMethod("<Clone>$") is not null ? "record" : "class");

    private static string Static(bool isStatic) => isStatic ? "static " : string.Empty;

    private static string Accessors(PropertyInfo property)
    {
        var text = new StringBuilder();
        if (Visible(property.GetMethod))
        {
            text.Append("get; ");
        }

        if (Visible(property.SetMethod))
        {
            var init = property.SetMethod!.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.Name == "IsExternalInit");
            text.Append(init ? "init; " : "set; ");
        }

        return text.ToString();
    }

    private static string Generic(MethodInfo method) =>
        method.IsGenericMethodDefinition ? "<" + string.Join(", ", method.GetGenericArguments().Select(a => a.Name)) + ">" : string.Empty;

    private static string Parameters(ParameterInfo[] parameters, NullabilityInfoContext nullability) =>
        string.Join(", ", parameters.Select(p =>
            (p.IsOut ? "out " : p.ParameterType.IsByRef ? "ref " : string.Empty)
            + (p.GetCustomAttributes().Any(a => a.GetType().Name == "ParamArrayAttribute") ? "params " : string.Empty)
            + TypeName(p, nullability) + " " + p.Name
            + (p.HasDefaultValue ? " = " + DefaultValue(p) : string.Empty)));

    private static string DefaultValue(ParameterInfo parameter) => parameter.DefaultValue switch
    {
        null => parameter.ParameterType.IsValueType && Nullable.GetUnderlyingType(parameter.ParameterType) is null ? "default" : "null",
        string s => "\"" + s + "\"",
        bool b => b ? "true" : "false",
        var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!,
    };

    private static string TypeName(ParameterInfo parameter, NullabilityInfoContext nullability) =>
        TypeName(nullability.Create(parameter), parameter.ParameterType.IsByRef ? parameter.ParameterType.GetElementType()! : parameter.ParameterType);

    private static string TypeName(NullabilityInfo info, Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Name(underlying) + "?";
        }

        var name = type.IsGenericType && !type.IsGenericTypeDefinition
            ? Name(type.GetGenericTypeDefinition()).Split('<')[0] + "<" + string.Join(", ", type.GetGenericArguments().Select((a, i) =>
                i < info.GenericTypeArguments.Length ? TypeName(info.GenericTypeArguments[i], a) : Name(a))) + ">"
            : type.IsArray && info.ElementType is { } element ? TypeName(element, type.GetElementType()!) + "[]"
            : Name(type);
        return !type.IsValueType && info.ReadState == NullabilityState.Nullable ? name + "?" : name;
    }

    private static string Name(Type type)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        var keyword = type.IsEnum ? null : Type.GetTypeCode(type) switch
        {
            TypeCode.Boolean => "bool",
            TypeCode.Byte => "byte",
            TypeCode.Int32 => "int",
            TypeCode.Int64 => "long",
            TypeCode.Double => "double",
            TypeCode.String => "string",
            _ => type == typeof(object) ? "object" : type == typeof(void) ? "void" : null,
        };
        if (keyword is not null)
        {
            return keyword;
        }

        var full = (type.FullName ?? (type.Namespace + "." + type.Name)).Replace('+', '.');
        if (!type.IsGenericType)
        {
            return full;
        }

        var tick = full.IndexOf('`', StringComparison.Ordinal);
        return full[..tick] + "<" + string.Join(", ", type.GetGenericArguments().Select(Name)) + ">";
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

}
