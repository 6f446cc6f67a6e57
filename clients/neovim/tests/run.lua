-- Minimal spec runner for the plugin's Lua unit tests, run inside Neovim:
--   nvim --headless -u NONE -i NONE -l tests/run.lua [spec files...]
-- Prints one line per test and closes with "N passed, N failed"; exits non-zero on failure.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
vim.opt.runtimepath:prepend(root)
vim.opt.swapfile = false
vim.o.showmode = false

local results = { passed = 0, failed = 0 }
local stack = {}
local before = {}

_G.describe = function(name, fn)
  table.insert(stack, name)
  table.insert(before, false)
  fn()
  table.remove(before)
  table.remove(stack)
end

_G.before_each = function(fn)
  before[#before] = fn
end

_G.it = function(name, fn)
  local full = table.concat(stack, ' > ') .. ' > ' .. name
  for _, b in ipairs(before) do
    if b then
      b()
    end
  end
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    results.passed = results.passed + 1
    io.stdout:write('ok   ' .. full .. '\n')
  else
    results.failed = results.failed + 1
    io.stdout:write('FAIL ' .. full .. '\n  ' .. tostring(err):gsub('\n', '\n  ') .. '\n')
  end
end

_G.eq = function(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(
      ('%sexpected %s, got %s'):format(what and (what .. ': ') or '', vim.inspect(expected), vim.inspect(actual)),
      2
    )
  end
end

_G.truthy = function(v, what)
  if not v then
    error((what or 'value') .. ' should be truthy, got ' .. vim.inspect(v), 2)
  end
end

--- A fresh scratch buffer with a file name (so it looks like a real file), shown in the window.
_G.scratch = function(lines, name)
  vim.cmd('enew!')
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  if name then
    vim.api.nvim_buf_set_name(buf, name)
  end
  vim.bo[buf].modified = false
  return buf
end

local files = _G.arg and #_G.arg > 0 and _G.arg or vim.fn.glob(root .. '/tests/unit/*_spec.lua', false, true)
table.sort(files)
for _, file in ipairs(files) do
  io.stdout:write('# ' .. vim.fn.fnamemodify(file, ':t') .. '\n')
  local chunk, err = loadfile(file)
  if not chunk then
    results.failed = results.failed + 1
    io.stdout:write('FAIL load ' .. file .. ': ' .. tostring(err) .. '\n')
  else
    local ok, e = xpcall(chunk, debug.traceback)
    if not ok then
      results.failed = results.failed + 1
      io.stdout:write('FAIL ' .. file .. ': ' .. tostring(e) .. '\n')
    end
  end
end
io.stdout:write(('%d passed, %d failed\n'):format(results.passed, results.failed))
io.stdout:flush()
os.exit(results.failed == 0 and 0 or 1)
