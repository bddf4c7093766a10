-- Headless Neovim 0.7 flows for tests/nvim/test_neovim.py, run after codeloop.lua (the
-- config docs/neovim.md shows). $CODELOOP_NVIM_FLOW names the flow, $CODELOOP_NVIM_FILE is
-- the file it opens. What Neovim really holds (buffer lines, vim.diagnostic, the titles the
-- code action menu offered, the server's answers) is written as JSON to $CODELOOP_NVIM_OUT,
-- with the error if a step failed; pytest asserts on it. Every wait polls its condition up
-- to $CODELOOP_NVIM_WAIT_MS: no fixed sleeps.

local WAIT_MS = tonumber(os.getenv("CODELOOP_NVIM_WAIT_MS") or "240000")
local report = { snapshots = {}, menus = {}, results = {}, labels = {}, messages = {}, progress = {}, statuses = {} }

-- Record what the server sends, then let Neovim's own handlers do their usual work.
local function spy(method, record)
  local original = vim.lsp.handlers[method]
  vim.lsp.handlers[method] = function(err, result, ctx, config)
    record(err, result, ctx)
    if original then
      return original(err, result, ctx, config)
    end
  end
end

spy("workspace/applyEdit", function(_, params)
  table.insert(report.labels, params.label or "")
end)
spy("window/showMessage", function(_, params)
  table.insert(report.messages, params.message)
end)
spy("workspace/executeCommand", function(err, result, ctx)
  table.insert(report.results, { command = ctx.params.command, result = result, error = err and err.message })
end)
spy("$/progress", function(_, params)
  local value = params.value or {}
  table.insert(report.progress, { token = tostring(params.token), kind = value.kind, message = value.message })
end)
vim.lsp.handlers["codeloop/status"] = function(_, status)
  table.insert(report.statuses, status)
end

local function wait(what, condition)
  if not vim.wait(WAIT_MS, condition, 50) then
    error("timed out waiting for " .. what, 2)
  end
end

local function diagnostics()
  local out = {}
  for _, d in ipairs(vim.diagnostic.get()) do
    local related = {}
    for _, r in ipairs(((d.user_data or {}).lsp or {}).relatedInformation or {}) do
      table.insert(related, { file = vim.uri_to_fname(r.location.uri), line = r.location.range.start.line })
    end
    table.insert(out, {
      file = vim.api.nvim_buf_get_name(d.bufnr), line = d.lnum, severity = d.severity,
      source = d.source, code = d.code, message = d.message, related = related,
    })
  end
  return out
end

local function from(source, file)
  local out = {}
  for _, d in ipairs(diagnostics()) do
    if d.source == source and (file == nil or d.file == file) then
      table.insert(out, d)
    end
  end
  return out
end

-- What the user sees now: every loaded buffer's lines and every diagnostic.
local function snapshot(name)
  local buffers = {}
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.api.nvim_buf_get_name(b) ~= "" then
      buffers[vim.api.nvim_buf_get_name(b)] = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), "\n") .. "\n"
    end
  end
  report.snapshots[name] = { buffers = buffers, diagnostics = diagnostics() }
end

-- Open the file; the FileType autocmd of codeloop.lua starts and attaches the client. Ready
-- when the status shows the model from the client's settings (so they reached the server).
local function open(path)
  vim.cmd("edit " .. vim.fn.fnameescape(path))
  local bufnr = vim.api.nvim_get_current_buf()
  wait("the client to attach", function()
    return #vim.lsp.buf_get_clients(bufnr) > 0
  end)
  wait("a codeloop/status with the model of the settings", function()
    local last = report.statuses[#report.statuses]
    return last ~= nil and last.model == "gpt-4o-mini"
  end)
  return bufnr
end

-- :lua vim.lsp.buf.code_action() on a line, with the menu (vim.ui.select) answered by the
-- first title that `choose` accepts (none: the menu is dismissed); the titles offered go to
-- report.menus.
local function code_action(line, choose)
  vim.api.nvim_win_set_cursor(0, { line + 1, 0 })
  local menu = nil
  local original = vim.ui.select
  vim.ui.select = function(items, _, on_choice)
    menu = {}
    local chosen = nil
    for _, item in ipairs(items) do
      table.insert(menu, item[2].title)
      if chosen == nil and choose ~= nil and choose(item[2].title) then
        chosen = item
      end
    end
    table.insert(report.menus, menu)
    on_choice(chosen)
  end
  vim.lsp.buf.code_action()
  wait("the code action menu", function()
    return menu ~= nil
  end)
  vim.ui.select = original
  if choose == nil then
    return nil
  end
  for _, title in ipairs(menu) do
    if choose(title) then
      return title
    end
  end
  error("no wanted action in the menu: " .. vim.inspect(menu), 2)
end

local function is(title)
  return function(t)
    return t == title
  end
end

local function starts(prefix)
  return function(t)
    return t:sub(1, #prefix) == prefix
  end
end

local function result_of(command, count)
  wait(command .. " to answer", function()
    local n = 0
    for _, r in ipairs(report.results) do
      if r.command == command then
        n = n + 1
      end
    end
    return n >= (count or 1)
  end)
end

local function has_code(file, code)
  for _, d in ipairs(diagnostics()) do
    if d.file == file and d.code == code then
      return true
    end
  end
  return false
end

local flows = {}

-- The menu on a stub, and its diagnostic.
function flows.menu(path)
  open(path)
  code_action(0, nil)
  wait("the stub diagnostic", function()
    return has_code(path, "codeloop.implement")
  end)
  snapshot("opened")
end

-- Implement from the menu: the server applies the verified body to the buffer.
function flows.implement(path)
  open(path)
  code_action(0, is("Implement double"))
  result_of("codeloop.implement")
  wait("the stub diagnostic to go with the stub", function()
    return not has_code(path, "codeloop.implement")
  end)
  snapshot("implemented")
end

-- Implement whose candidates all fail: a Warning, then the offer titled with its evidence,
-- applied from the menu (its edit, then its codeloop.offerAccepted command).
function flows.offer(path)
  open(path)
  code_action(0, is("Implement double"))
  result_of("codeloop.implement")
  wait("the unverified diagnostic", function()
    return has_code(path, "codeloop.unverified")
  end)
  snapshot("unverified")
  code_action(0, starts("Implement double ("))
  result_of("codeloop.offerAccepted")
  wait("the unverified diagnostic to go", function()
    return not has_code(path, "codeloop.unverified")
  end)
  snapshot("applied")
end

-- Run the suite (the command of docs/neovim.md): the failure shows in the test file and at
-- the raising line; fix the code, :write (run on save), and both clear.
function flows.run_tests(path)
  local root = vim.fn.fnamemodify(path, ":h")
  local test_file = root .. "/tests/test_calc.py"
  local bufnr = open(path)
  vim.lsp.buf.execute_command({ command = "codeloop.runTests", arguments = {} })
  wait("test diagnostics in the test file and in the code", function()
    return #from("codeloop-tests", test_file) > 0 and #from("codeloop-tests", path) > 0
  end)
  result_of("codeloop.runTests")
  snapshot("failing")
  local fixed = vim.split(os.getenv("CODELOOP_NVIM_FIXED"), "\n", { trimempty = true })
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, fixed)
  vim.cmd("write")
  wait("the test diagnostics to clear", function()
    return #from("codeloop-tests") == 0
  end)
  snapshot("fixed")
end

-- Generate tests from the menu: the edit lands in the function's test file (a buffer
-- Neovim loads for it); :wall writes it.
function flows.gen_tests(path)
  open(path)
  local line = tonumber(os.getenv("CODELOOP_NVIM_LINE") or "0")
  code_action(line, starts("Generate tests for "))
  result_of("codeloop.generateTests")
  snapshot("generated")
  vim.cmd("silent wall")
end

local ok, err = xpcall(function()
  local flow = flows[os.getenv("CODELOOP_NVIM_FLOW")]
  assert(flow, "unknown flow " .. tostring(os.getenv("CODELOOP_NVIM_FLOW")))
  flow(os.getenv("CODELOOP_NVIM_FILE"))
end, debug.traceback)
if not ok then
  report.error = tostring(err)
  pcall(snapshot, "at_error")
end
local f = assert(io.open(os.getenv("CODELOOP_NVIM_OUT"), "w"))
f:write(vim.fn.json_encode(report))
f:close()
vim.cmd("qa!")
