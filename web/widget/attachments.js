// Which files the inbox takes, decided before uploading, the way the server decides.

// The inbox lists types as the server matches them: exact, or a family such as `image/*`.
export function typeAllowed(pattern, type) {
  const family = pattern.endsWith('/*') ? pattern.slice(0, -2) : null;
  return family ? type.split('/')[0] === family : pattern.toLowerCase() === type.toLowerCase();
}

// The key of the phrase that says why `file` cannot be sent, or null when it can.
export function attachmentProblem(file, limits) {
  if (file.size > limits.max_bytes) return 'too_big';
  const types = limits.content_types;
  if (types.length && !types.some((pattern) => typeAllowed(pattern, file.type))) return 'bad_type';
  return null;
}
