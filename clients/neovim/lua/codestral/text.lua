-- Pure string helpers for partial acceptance and ghost text layout.
local M = {}

--- The part of `text` up to the end of its next word: leading blanks (newlines included),
--- then a run of identifier characters or else a run of other non-blank characters.
---@param text string
---@return string piece, string rest
function M.take_word(text)
  local lead = text:match('^%s*')
  local after = text:sub(#lead + 1)
  local word = after:match('^[%w_]+') or after:match('^[^%w_%s]+') or ''
  local n = #lead + #word
  return text:sub(1, n), text:sub(n + 1)
end

--- The part of `text` up to the end of its current line; when the text starts with a line
--- break, the break and the whole next line.
---@param text string
---@return string piece, string rest
function M.take_line(text)
  local start = 1
  if text:sub(1, 1) == '\n' then
    start = 2
  end
  local nl = text:find('\n', start, true)
  if not nl then
    return text, ''
  end
  return text:sub(1, nl - 1), text:sub(nl)
end

--- Split a piece of text to accept: 'all', 'word' or 'line'.
---@param text string
---@param kind 'all'|'word'|'line'
---@return string piece, string rest
function M.take(text, kind)
  if kind == 'word' then
    return M.take_word(text)
  elseif kind == 'line' then
    return M.take_line(text)
  end
  return text, ''
end

---@param text string
---@return string[]
function M.lines(text)
  return vim.split(text, '\n', { plain = true })
end

--- What remains of `suggestion` once `typed` (text the user entered after the anchor) is
--- taken into account; nil when the typed text departs from the suggestion.
---@param suggestion string
---@param typed string
---@return string|nil
function M.remainder(suggestion, typed)
  if typed == '' then
    return suggestion
  end
  if suggestion:sub(1, #typed) == typed then
    return suggestion:sub(#typed + 1)
  end
  return nil
end

--- Where the cursor ends after inserting `text` at (row, col), both 0-based bytes.
---@return integer row, integer col
function M.end_position(row, col, text)
  local lines = M.lines(text)
  if #lines == 1 then
    return row, col + #lines[1]
  end
  return row + #lines - 1, #lines[#lines]
end

return M
