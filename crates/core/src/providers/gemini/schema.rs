//! JSON Schema → Gemini's OpenAPI-subset `Schema`, for tool parameters and structured output.

use serde_json::{json, Map, Value};

use crate::error::Error;

/// JSON Schema → Gemini's `Schema` (a subset of OpenAPI 3.0):
/// - `type` becomes upper case; `["x", "null"]` and `anyOf: [x, {type: null}]` become
///   `nullable: true`; several types become `anyOf`; `oneOf` becomes `anyOf` (at least one).
/// - local `$ref`s (`#/$defs/…`, `#/definitions/…`) are inlined; recursive ones are refused.
/// - `const` becomes a one-value `enum`; enums must be strings.
/// - `exclusiveMinimum`/`exclusiveMaximum` become the inclusive `minimum`/`maximum`.
/// - dropped: `additionalProperties: true|false` (Gemini never produces undeclared properties),
///   annotations (`$schema`, `$id`, `$comment`, `examples`, `readOnly`, `writeOnly`,
///   `deprecated`) and the unenforceable `multipleOf` and `uniqueItems`.
/// - refused, naming the place: map schemas (`additionalProperties: {…}`), tuples, `allOf`,
///   `not`, conditionals and other keywords Gemini has no equivalent for.
pub(super) fn gemini_schema(schema: &Value, path: &str) -> Result<Value, Error> {
    SchemaConverter { root: schema }.convert(schema, path, 0)
}

struct SchemaConverter<'a> {
    root: &'a Value,
}

/// Deeper than this, a `$ref` is going round in circles.
const MAX_SCHEMA_DEPTH: usize = 64;

fn schema_error(path: &str, what: &str) -> Error {
    Error::InvalidInput(format!("Gemini cannot take {what} (at {path})"))
}

fn gemini_type(t: &str, path: &str) -> Result<&'static str, Error> {
    Ok(match t {
        "string" => "STRING",
        "number" => "NUMBER",
        "integer" => "INTEGER",
        "boolean" => "BOOLEAN",
        "array" => "ARRAY",
        "object" => "OBJECT",
        "null" => "NULL",
        other => return Err(schema_error(path, &format!("the type {other:?}"))),
    })
}

fn is_null_schema(s: &Value) -> bool {
    s.get("type").and_then(Value::as_str) == Some("null")
}

impl SchemaConverter<'_> {
    fn resolve(&self, reference: &str, path: &str) -> Result<&Value, Error> {
        let pointer = reference
            .strip_prefix('#')
            .ok_or_else(|| schema_error(path, &format!("the non-local $ref {reference:?}")))?;
        self.root
            .pointer(pointer)
            .ok_or_else(|| schema_error(path, &format!("the unresolvable $ref {reference:?}")))
    }

    fn convert(&self, schema: &Value, path: &str, depth: usize) -> Result<Value, Error> {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(schema_error(path, "a recursive schema"));
        }
        let Some(obj) = schema.as_object() else {
            return Err(schema_error(path, "a schema that is not an object"));
        };
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            let target = self.resolve(reference, path)?;
            let mut merged = target.clone();
            // Siblings of $ref (a description, say) apply too.
            if let (Some(m), true) = (merged.as_object_mut(), obj.len() > 1) {
                for (k, v) in obj.iter().filter(|(k, _)| *k != "$ref") {
                    m.insert(k.clone(), v.clone());
                }
            }
            return self.convert(&merged, path, depth + 1);
        }

        let mut out = Map::new();
        let mut nullable = obj.get("nullable").and_then(Value::as_bool) == Some(true);

        // Unions first: they decide the shape of everything else.
        let union = obj.get("anyOf").or_else(|| obj.get("oneOf")).map(|u| {
            (
                u,
                if obj.contains_key("anyOf") {
                    "anyOf"
                } else {
                    "oneOf"
                },
            )
        });
        if let Some((members, keyword)) = union {
            let members = members
                .as_array()
                .ok_or_else(|| schema_error(path, &format!("a {keyword} that is not a list")))?;
            let mut rest = Vec::new();
            for (i, m) in members.iter().enumerate() {
                if is_null_schema(m) {
                    nullable = true;
                } else {
                    rest.push(self.convert(m, &format!("{path}.{keyword}[{i}]"), depth + 1)?);
                }
            }
            match rest.len() {
                0 => {
                    out.insert("type".into(), "NULL".into());
                }
                1 => {
                    if let Some(Value::Object(only)) = rest.pop() {
                        out = only;
                    }
                }
                _ => {
                    out.insert("anyOf".into(), Value::Array(rest));
                }
            }
        }

        for (key, value) in obj {
            let here = || format!("{path}.{key}");
            match key.as_str() {
                "anyOf" | "oneOf" | "nullable" | "$defs" | "definitions" => {}
                "type" => match value {
                    Value::String(t) => {
                        out.insert("type".into(), gemini_type(t, &here())?.into());
                    }
                    Value::Array(types) => {
                        let mut kinds = Vec::new();
                        for t in types {
                            match t.as_str() {
                                Some("null") => nullable = true,
                                Some(t) => kinds.push(gemini_type(t, &here())?),
                                None => return Err(schema_error(&here(), "a non-string type")),
                            }
                        }
                        match kinds.as_slice() {
                            [] => {
                                out.insert("type".into(), "NULL".into());
                            }
                            [one] => {
                                out.insert("type".into(), (*one).into());
                            }
                            many => {
                                let variants = many
                                    .iter()
                                    .map(|t| json!({ "type": t }))
                                    .collect::<Vec<_>>();
                                out.insert("anyOf".into(), Value::Array(variants));
                            }
                        }
                    }
                    _ => return Err(schema_error(&here(), "a type that is not a string")),
                },
                "properties" => {
                    let props = value.as_object().ok_or_else(|| {
                        schema_error(&here(), "properties that are not an object")
                    })?;
                    let mut converted = Map::new();
                    for (name, prop) in props {
                        converted.insert(
                            name.clone(),
                            self.convert(prop, &format!("{path}.{name}"), depth + 1)?,
                        );
                    }
                    out.insert("properties".into(), Value::Object(converted));
                }
                "items" => {
                    if value.is_array() {
                        return Err(schema_error(&here(), "tuple items"));
                    }
                    out.insert(
                        "items".into(),
                        self.convert(value, &format!("{path}[]"), depth + 1)?,
                    );
                }
                "additionalProperties" => {
                    if !value.is_boolean() {
                        return Err(schema_error(
                            &here(),
                            "an additionalProperties schema (a map of arbitrary keys)",
                        ));
                    }
                }
                "enum" => {
                    let values = value
                        .as_array()
                        .ok_or_else(|| schema_error(&here(), "an enum that is not a list"))?;
                    let mut strings = Vec::new();
                    for v in values {
                        match v {
                            Value::String(_) => strings.push(v.clone()),
                            Value::Null => nullable = true,
                            _ => return Err(schema_error(&here(), "an enum of non-strings")),
                        }
                    }
                    out.insert("enum".into(), Value::Array(strings));
                }
                "const" => match value {
                    Value::String(_) => {
                        out.insert("enum".into(), json!([value]));
                    }
                    _ => return Err(schema_error(&here(), "a const that is not a string")),
                },
                "exclusiveMinimum" | "exclusiveMaximum" => {
                    if value.is_number() {
                        let bound = if key == "exclusiveMinimum" {
                            "minimum"
                        } else {
                            "maximum"
                        };
                        out.insert(bound.into(), value.clone());
                    }
                }
                "description" | "title" | "format" | "required" | "pattern" | "minimum"
                | "maximum" | "minItems" | "maxItems" | "minLength" | "maxLength"
                | "minProperties" | "maxProperties" | "default" | "example"
                | "propertyOrdering" => {
                    out.insert(key.clone(), value.clone());
                }
                "$schema" | "$id" | "$comment" | "examples" | "readOnly" | "writeOnly"
                | "deprecated" | "multipleOf" | "uniqueItems" => {}
                "allOf" => match value.as_array().map(Vec::as_slice) {
                    Some([only]) => {
                        let inner = self.convert(only, &here(), depth + 1)?;
                        if let Value::Object(inner) = inner {
                            for (k, v) in inner {
                                out.entry(k).or_insert(v);
                            }
                        }
                    }
                    _ => return Err(schema_error(&here(), "allOf")),
                },
                other => return Err(schema_error(path, &format!("the keyword {other:?}"))),
            }
        }
        // Gemini's enums are string enums and every schema needs a type.
        if out.contains_key("enum") && !out.contains_key("type") && !out.contains_key("anyOf") {
            out.insert("type".into(), "STRING".into());
        }
        if nullable {
            out.insert("nullable".into(), true.into());
        }
        Ok(Value::Object(out))
    }
}
