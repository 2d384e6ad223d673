// Turns a [Network] class (its attributes, in source order) into a validated NetworkSpec; nothing Roslyn escapes.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BnnDsl.Generator;

internal static class Parser
{
    public static NetworkModel Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var networkData = context.Attributes[0];
        var networkLocation = Locate(networkData, cancellationToken);
        var input = Instantiate(networkData) is NetworkAttribute network ? network.InputShape : TensorShape.Unknown;

        var layers = new LayerListBuilder();
        foreach (var data in type.GetAttributes())
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (Instantiate(data))
            {
                case LayerAttribute layer:
                    layers.Add(layer.ToLayerSpec(Locate(data, cancellationToken)));
                    break;
                case RepeatAttribute repeat:
                    layers.BeginRepeat(repeat.Count, Locate(data, cancellationToken));
                    break;
                case EndRepeatAttribute:
                    layers.EndRepeat(Locate(data, cancellationToken));
                    break;
            }
        }

        var declared = new NetworkSpec(type.Name, input, new EquatableArray<LayerSpec>(layers.Build()), networkLocation);
        var result = ShapeInference.Infer(declared);
        var diagnostics = layers.Diagnostics.Concat(result.Diagnostics).ToList();
        if (!IsExtensible(type, (TypeDeclarationSyntax)context.TargetNode))
            diagnostics.Insert(0, NetworkDiagnostic.Create(BnnDiagnostics.NetworkClassNotPartial, networkLocation, type.Name));
        if (diagnostics.Count == 0)
            diagnostics.AddRange(LayerPlanner.Check(result.Network));

        string? ns = type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString();
        return new NetworkModel(new GenerationTarget(ns, type.Name, result.Network, "the attributes on " + type.Name), new EquatableArray<NetworkDiagnostic>(diagnostics));
    }

    private static bool IsExtensible(INamedTypeSymbol type, TypeDeclarationSyntax declaration) =>
        declaration is ClassDeclarationSyntax && declaration.Modifiers.Any(SyntaxKind.PartialKeyword)
        && type.ContainingType is null && !type.IsGenericType && !type.IsStatic
        && type.BaseType is { SpecialType: SpecialType.System_Object };

    /// <summary>
    /// Builds the real attribute object (from the dsl bundled with the generator) out of the attribute's arguments, so
    /// option defaults and the attribute-to-layer mapping live once, in the dsl. Null for attributes that are not ours
    /// or that do not bind (the compiler reports those).
    /// </summary>
    private static Attribute? Instantiate(AttributeData data)
    {
        if (data.AttributeClass is not { } attributeClass || data.AttributeConstructor is null
            || attributeClass.ContainingNamespace.ToDisplayString() != "BnnDsl")
            return null;
        var type = typeof(NetworkAttribute).Assembly.GetType("BnnDsl." + attributeClass.MetadataName);
        if (type is null || !typeof(Attribute).IsAssignableFrom(type) || type.IsAbstract)
            return null;

        var parameterTypes = data.AttributeConstructor.Parameters.Select(p => ClrType(p.Type)).ToArray();
        var constructor = parameterTypes.All(t => t is not null) ? type.GetConstructor(parameterTypes!) : null;
        if (constructor is null || data.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error))
            return null;
        var arguments = data.ConstructorArguments.Select((a, i) => Convert(a.Value, parameterTypes[i]!)).ToArray();
        var attribute = (Attribute)constructor.Invoke(arguments);
        foreach (var named in data.NamedArguments)
        {
            var property = type.GetProperty(named.Key, BindingFlags.Public | BindingFlags.Instance);
            if (property is null || !property.CanWrite || named.Value.Kind == TypedConstantKind.Error)
                return null;
            property.SetValue(attribute, Convert(named.Value.Value, property.PropertyType));
        }
        return attribute;
    }

    private static Type? ClrType(ITypeSymbol type) => type.SpecialType switch
    {
        SpecialType.System_Int32 => typeof(int),
        _ when type.TypeKind == TypeKind.Enum => typeof(NetworkAttribute).Assembly.GetType("BnnDsl." + type.MetadataName),
        _ => null,
    };

    private static object? Convert(object? value, Type type) =>
        type.IsEnum && value is not null ? Enum.ToObject(type, value) : value;

    private static SourceLocation? Locate(AttributeData data, CancellationToken cancellationToken)
    {
        if (data.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not { } syntax)
            return null;
        var location = syntax.GetLocation();
        var lines = location.GetLineSpan();
        return new SourceLocation(lines.Path, location.SourceSpan.Start, location.SourceSpan.Length,
            lines.StartLinePosition.Line, lines.StartLinePosition.Character,
            lines.EndLinePosition.Line, lines.EndLinePosition.Character);
    }
}
